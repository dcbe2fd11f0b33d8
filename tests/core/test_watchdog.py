"""Loop-blocking watch: a task that blocks the loop is named in an event and a warning."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from aioclock_core import AioClock, Every, Once, OnStartUp
from aioclock_core._watchdog import LoopWatchdog
from aioclock_core.events import LoopBlocked


async def test_a_task_blocking_the_loop_is_named(caplog: pytest.LogCaptureFixture) -> None:
    app = AioClock(loop_block_threshold=0.05)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    @app.task(trigger=Once(), name="cpu-hog")
    async def hog() -> None:
        await asyncio.sleep(0.06)  # let the watchdog settle into its rhythm
        time.sleep(0.3)  # blocking call inside async def: the bug we want to catch
        await asyncio.sleep(0.1)

    with caplog.at_level(logging.WARNING, logger="aioclock"):
        await asyncio.wait_for(app.serve(), 5)
    app.flush_events()

    assert blocked, "no LoopBlocked event"
    event = blocked[0]
    assert event.task_name == "cpu-hog"
    assert 0.2 < event.blocked_for < 1.0
    assert any("make the task a plain `def`" in r.getMessage() for r in caplog.records)


async def test_a_task_blocking_at_once_after_a_quiet_spell_is_named() -> None:
    # 1.2 s without runs: the watch thread has stopped looking, the run must rouse it.
    app = AioClock(loop_block_threshold=0.05)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    @app.task(trigger=Every(seconds=1.2, max_loop_count=1), name="late hog")
    async def hog() -> None:
        time.sleep(0.3)  # blocks from its first line

    await asyncio.wait_for(app.serve(), 5)
    app.flush_events()
    assert [event.task_name for event in blocked] == ["late hog"]


async def test_the_watch_can_be_switched_off() -> None:
    app = AioClock(loop_block_threshold=None)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    @app.task(trigger=Once())
    async def hog() -> None:
        time.sleep(0.2)

    await asyncio.wait_for(app.serve(), 5)
    app.flush_events()
    assert blocked == []


async def test_a_slow_lifespan_before_the_first_runs_is_not_reported_as_a_stall() -> None:
    @asynccontextmanager
    async def lifespan(_: AioClock) -> AsyncIterator[None]:
        await asyncio.sleep(0.8)  # connecting somewhere: the loop is free meanwhile
        yield

    app = AioClock(loop_block_threshold=0.05, lifespan=lifespan)
    blocked: list[LoopBlocked] = []
    app.subscribe(lambda batch: blocked.extend(e for e in batch if isinstance(e, LoopBlocked)))

    with pytest.warns(DeprecationWarning):  # the old way; it runs before the watch starts
        start_up = OnStartUp()

    @app.task(trigger=start_up, name="warm up")
    async def warm_up() -> None:
        return None

    @app.task(trigger=Once(), name="once")
    async def once() -> None:
        await asyncio.sleep(0.1)

    await asyncio.wait_for(app.serve(), 5)
    app.flush_events()
    assert blocked == []


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def watchdog_on(
    clock: FakeMonotonic,
    culprits: list[str],
    next_wake: Callable[[], float | None] = lambda: None,
) -> tuple[LoopWatchdog, list[tuple]]:
    """A watchdog driven by hand: `_tick` is the loop's heartbeat, `_check` the thread's
    look; `culprits` are what the thread finds running, in turn; `next_wake` when the
    scheduler's next timer wakes the loop (on `clock`)."""
    reports: list[tuple] = []
    found = iter(culprits)
    watchdog = LoopWatchdog(
        0.1,
        lambda current: next(found),  # type: ignore[arg-type, return-value]
        lambda gap, culprit: reports.append((round(gap, 3), culprit)),
        monotonic=clock,
        next_wake=next_wake,
    )
    watchdog._begin(None)  # beats from clock.now, ticked by hand
    return watchdog, reports


def test_the_thread_sleeps_until_the_loop_would_be_late_and_samples_once_per_stall() -> None:
    clock = FakeMonotonic()
    watchdog, reports = watchdog_on(clock, ["hog", "other"])
    watchdog.busy()  # a run is in flight
    # Ticks every 50 ms; the thread is due when a tick is 50 ms late (100 ms after one).
    clock.now = 0.02
    assert watchdog._check() == pytest.approx(0.08)
    clock.now = 0.05
    watchdog._tick()
    clock.now = 0.10
    assert watchdog._check() == pytest.approx(0.05)  # the tick moved its moment on
    clock.now = 0.16  # the loop stalled after its tick at 0.05
    assert watchdog._check() == pytest.approx(0.05)  # sampled: "hog"
    clock.now = 0.20
    watchdog._check()  # the same stall: no second sample
    clock.now = 0.40
    watchdog._tick()
    assert reports == [(0.3, "hog")]


def test_a_sample_of_a_stall_too_short_to_report_is_not_blamed_for_the_next() -> None:
    clock = FakeMonotonic()
    watchdog, reports = watchdog_on(clock, ["short hog"])
    watchdog.busy()
    clock.now = 0.11
    watchdog._check()  # the loop is over 50 ms late: the thread samples "short hog"
    clock.now = 0.13
    watchdog._tick()  # 80 ms late in all: below the threshold, not reported
    clock.now = 0.18
    watchdog._tick()
    clock.now = 0.50  # a stall the thread had no chance to sample (it was descheduled)
    watchdog._tick()
    assert reports == [(0.27, None)]


def test_the_heartbeat_is_slow_while_no_run_is_in_flight_and_quickens_for_runs() -> None:
    clock = FakeMonotonic()
    watchdog, reports = watchdog_on(clock, ["outside any run"])
    assert watchdog._check() == pytest.approx(0.55)  # idle: a beat every 0.5 s
    clock.now = 0.2
    watchdog.busy()  # a run starts: the slow beat is cut short, not reported late
    assert watchdog._check() == pytest.approx(0.1)
    clock.now = 0.25
    watchdog._tick()
    watchdog.idle()  # the last run ended: the beat after the next is slow again
    clock.now = 0.3
    watchdog._tick()
    assert watchdog._check() == pytest.approx(0.55)
    clock.now = 0.9  # a stall of the idle loop: the thread looks at its moment
    watchdog._check()
    clock.now = 1.2
    watchdog._tick()  # 0.4 s late for a 0.5 s beat
    assert reports == [(0.4, "outside any run")]


def test_a_stall_that_delays_the_firing_a_beat_rides_on_is_reported() -> None:
    clock = FakeMonotonic()
    watchdog, reports = watchdog_on(clock, ["outside any run"], lambda: 1.0)
    assert watchdog._scheduled == pytest.approx(1.0)  # the beat waits for the firing at 1 s
    assert watchdog._check() == pytest.approx(1.05)  # so does the thread's look
    clock.now = 1.05  # the loop is stuck (since 0.7, say): the thread samples
    watchdog._check()
    clock.now = 1.4  # the loop is back: the firing and the beat come 0.4 s late
    watchdog._tick()
    assert reports == [(0.4, "outside any run")]


def wake_ups(period: float, firings: int, ride: bool = True) -> tuple[int, int]:
    """(the loop's timed beats, the thread's wake-ups) while one task of period `period`
    and a 1 ms body fires `firings` times, counted on a fake clock. The thread looks
    when it is due or roused (it then looks during the run). A beat at a firing's
    instant is not counted: the firing wakes the loop then anyway. `ride`: the watch
    knows when the scheduler's next timer is due (as when serving)."""
    clock = FakeMonotonic()
    next_firing = [period]
    watchdog, reports = watchdog_on(clock, [], lambda: next_firing[0] if ride else None)
    timed_beats = thread_wakes = 0

    def thread_looks() -> float:
        nonlocal thread_wakes
        thread_wakes += 1
        watchdog._rouse.clear()
        sleep = watchdog._next_sleep()
        return math.inf if sleep is None else clock.now + sleep

    thread_wakes_at = thread_looks()  # its first look, at the start
    thread_wakes = 0
    for firing in range(1, firings + 1):
        fire_at = firing * period
        while True:  # what wakes up before the firing
            beat_at = watchdog._last_tick + watchdog._scheduled
            rides = math.isclose(beat_at, fire_at)
            clock.now = min(beat_at, thread_wakes_at, fire_at)
            if clock.now == beat_at and not rides:
                timed_beats += 1
                watchdog._tick()
            elif clock.now == thread_wakes_at:
                thread_wakes_at = thread_looks()
            elif rides:  # the beat and the firing's timer: one wake-up runs both
                clock.now = fire_at
                watchdog._tick()
                break
            else:
                break
        next_firing[0] = fire_at + period  # armed before the run starts, as when serving
        watchdog.busy()
        if watchdog._rouse.is_set():
            thread_wakes_at = thread_looks()
        clock.now += 0.001
        watchdog.idle()
    assert reports == []
    return timed_beats, thread_wakes


def test_one_short_run_a_second_costs_one_timed_beat_and_one_thread_wake_a_second() -> None:
    timed_beats, thread_wakes = wake_ups(period=1.0, firings=10, ride=False)
    assert timed_beats <= 11  # before issue 17: 20 (and one before the first firing)
    assert thread_wakes <= 10  # before issue 17: 29


def test_beats_ride_on_the_firings_so_a_task_of_a_second_wakes_the_loop_once_a_second() -> None:
    timed_beats, thread_wakes = wake_ups(period=1.0, firings=10)
    assert timed_beats <= 1  # the one before the first firing; without riding: 11
    assert thread_wakes <= 10


def test_a_beat_rides_only_on_a_firing_within_two_idle_ticks() -> None:
    timed_beats, thread_wakes = wake_ups(period=0.8, firings=10)
    assert (timed_beats, thread_wakes) <= (1, 10)  # without riding: 10 and 19
    timed_beats, _ = wake_ups(period=3.0, firings=4)
    assert 4 * 4 <= timed_beats <= 4 * 5  # 0.5 s beats until the firing is 1 s away


def test_the_thread_wakes_for_runs_not_for_time() -> None:
    _, thread_wakes = wake_ups(period=10.0, firings=6)
    assert thread_wakes <= 18  # before issue 17: 125 in this minute
