"""Scheduling features on the fake clock: retries, jitter, one-shots at a date, windows,
misfire policies, results, and tasks added, removed and rescheduled while serving."""

from __future__ import annotations

import asyncio
import random
import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aioclock_core import AioClock, Cron, Every, Group, Once
from aioclock_core.events import (
    RunFinished,
    RunSkipped,
    RunStarted,
    SkipReason,
    TaskAdded,
    TaskRemoved,
    TaskRescheduled,
)
from aioclock_core.runs import RunKind, RunOutcome
from aioclock_core.stores import SQLiteStore
from aioclock_core.testing import EventRecorder, FakeClock, serving
from aioclock_core.triggers import AndTrigger
from tests.bounds import time_limit
from tests.core.conftest import START

SECOND = timedelta(seconds=1)


def started_at(recorder: EventRecorder, name: str) -> list[float]:
    return [
        (e.run.started_at - START).total_seconds()
        for e in recorder.of_type(RunStarted)
        if e.task_name == name  # type: ignore[attr-defined]
    ]


def finished(recorder: EventRecorder, name: str) -> list[RunFinished]:
    return [e for e in recorder.of_type(RunFinished) if e.task_name == name]  # type: ignore[misc]


# ----- retries -------------------------------------------------------------------------


@time_limit()
async def test_a_failed_run_is_retried_with_backoff_each_attempt_its_own_run(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    calls = []

    @app.task(trigger=Once(), name="flaky", retries=3, retry_delay=10, retry_backoff=2.0)
    async def flaky() -> str:
        calls.append(clock.now())
        if len(calls) < 4:
            raise ConnectionError(f"attempt {len(calls)} failed")
        return "done"

    async with serving(app):
        await clock.advance(seconds=100)

    assert [(c - START).total_seconds() for c in calls] == [0, 10, 30, 70]
    runs = [e.run for e in finished(recorder, "flaky")]
    assert [(r.kind, r.attempt, r.outcome) for r in runs] == [
        (RunKind.SCHEDULE, 1, RunOutcome.FAILED),
        (RunKind.RETRY, 2, RunOutcome.FAILED),
        (RunKind.RETRY, 3, RunOutcome.FAILED),
        (RunKind.RETRY, 4, RunOutcome.SUCCEEDED),
    ]
    assert runs[-1].result == "'done'"
    assert len({r.run_id for r in runs}) == 4


@time_limit()
async def test_retries_stop_after_the_last_attempt_and_only_for_retry_on(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Once(), name="down", retries=2, retry_delay=1)
    async def down() -> None:
        raise ConnectionError("still down")

    @app.task(trigger=Once(), name="bug", retries=2, retry_delay=1, retry_on=ConnectionError)
    async def bug() -> None:
        raise ValueError("a bug, not worth retrying")

    async with serving(app):
        await clock.advance(seconds=30)
    assert [e.run.attempt for e in finished(recorder, "down")] == [1, 2, 3]
    assert [e.run.attempt for e in finished(recorder, "bug")] == [1]


@time_limit()
async def test_a_timed_out_run_is_retried_when_timeouts_are_worth_a_retry(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(
        trigger=Once(), name="slow", timeout=5, retries=1, retry_delay=1, retry_on=TimeoutError
    )
    async def slow() -> None:
        await clock.sleep(60)

    async with serving(app):
        await clock.advance(seconds=30)
    assert [(e.run.attempt, e.run.outcome) for e in finished(recorder, "slow")] == [
        (1, RunOutcome.TIMED_OUT),
        (2, RunOutcome.TIMED_OUT),
    ]


@time_limit()
async def test_a_retry_that_meets_a_running_firing_follows_the_overlap_rule(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    calls = []

    @app.task(trigger=Every(seconds=10), name="busy", retries=1, retry_delay=5)
    async def busy() -> None:
        calls.append(clock.now())
        if len(calls) == 1:
            raise ConnectionError("first run fails")
        await clock.sleep(8)

    async with serving(app):
        await clock.advance(seconds=16)  # first fails at 10; its retry at 15 runs
        await clock.advance(seconds=4)  # the firing at 20 finds the retry still going
    skips = [e for e in recorder.of_type(RunSkipped) if e.task_name == "busy"]
    assert [(e.reason, (e.scheduled_for - START).total_seconds()) for e in skips] == [
        (SkipReason.OVERLAP, 20.0)
    ]
    assert started_at(recorder, "busy") == [10.0, 15.0]


def test_group_retry_defaults_apply_and_a_tasks_own_win() -> None:
    group = Group(retries=2, retry_delay=3, retry_on=(ConnectionError,))

    @group.task(trigger=Once(), name="default")
    async def default() -> None: ...

    @group.task(trigger=Once(), name="own", retries=5)
    async def own() -> None: ...

    first, second = group.tasks
    assert (first.retries, first.retry_delay, first.retry_on) == (2, 3, (ConnectionError,))
    assert second.retries == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries must be a whole number >= 0, got -1"),
        ({"retry_backoff": 0.5}, "retry_backoff must be a number >= 1, got 0.5"),
        ({"retry_on": ("ConnectionError",)}, "retry_on takes exception classes"),
        ({"jitter": -1}, "jitter must be >= 0 seconds"),
        ({"misfire": "newest"}, "misfire must be one of 'latest', 'earliest', 'all'"),
        ({"start_at": datetime(2026, 1, 1)}, "start_at must be an aware datetime"),
        (
            {
                "start_at": datetime(2026, 1, 2, tzinfo=timezone.utc),
                "end_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
            },
            "end_at (2026-01-01T00:00:00+00:00) is before start_at",
        ),
    ],
)
def test_bad_scheduling_options_are_refused_at_registration(
    app: AioClock, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        app.task(trigger=Every(seconds=1), name="bad", **options)(_noop)  # type: ignore[arg-type]


async def _noop() -> None: ...


# ----- jitter -----------------------------------------------------------------------------


@time_limit()
async def test_jitter_delays_each_firing_within_its_bound_from_a_seeded_source(
    clock: FakeClock,
) -> None:
    def lateness(seed: int) -> list[float]:
        app = AioClock(clock=clock, loop_block_threshold=None, jitter_source=random.Random(seed))
        recorder = EventRecorder(app)

        @app.task(trigger=Every(seconds=10), name="spread", jitter=5)
        async def spread() -> None: ...

        async def serve() -> None:
            async with serving(app):
                await clock.advance(seconds=100)

        return serve, recorder  # type: ignore[return-value]

    results = []
    for seed in (7, 7, 8):
        serve, recorder = lateness(seed)  # type: ignore[misc]
        await serve()
        late = [
            (e.run.started_at - e.run.scheduled_for).total_seconds()
            for e in recorder.of_type(RunStarted)
        ]
        results.append(late)
    assert len(results[0]) >= 9
    assert all(0 <= value <= 5 for value in results[0])
    assert len(set(results[0])) > 3  # spread, not one fixed delay
    assert results[0] == results[1]  # the same seed, the same delays
    assert results[0] != results[2]


# ----- Once at a date --------------------------------------------------------------------------


@time_limit()
async def test_once_at_a_date_fires_then_and_never_again(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Once(at=START + timedelta(hours=2)), name="launch")
    async def launch() -> None: ...

    async with serving(app):
        await clock.advance(hours=5)
    assert started_at(recorder, "launch") == [7200.0]


def test_a_naive_once_needs_its_zone_and_then_means_that_wall_time() -> None:
    with pytest.raises(ValueError, match="naive datetime: give its zone with tz="):
        Once(at=datetime(2026, 6, 1, 9, 0))
    trigger = Once(at=datetime(2026, 6, 1, 9, 0), tz="Europe/Berlin")
    assert trigger.next_fire_time(None, START) == datetime(2026, 6, 1, 7, 0, tzinfo=timezone.utc)


@time_limit()
async def test_a_past_once_fires_at_start_within_the_grace_else_is_missed(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Once(at=START - timedelta(seconds=30)), name="recent")
    async def recent() -> None: ...

    @app.task(trigger=Once(at=START - timedelta(hours=1)), name="stale", misfire_grace_time=60)
    async def stale() -> None: ...

    async with serving(app):
        await clock.advance(seconds=1)
    assert started_at(recorder, "recent") == [0.0]
    assert [e.reason for e in recorder.of_type(RunSkipped) if e.task_name == "stale"] == [
        SkipReason.MISSED
    ]


@time_limit()
async def test_a_once_at_a_date_that_fired_does_not_fire_again_after_a_restart(
    tmp_path: object,
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "h.sqlite3"
    fired = []
    for offset in (timedelta(hours=3), timedelta(hours=4)):
        clock = FakeClock(start=START + offset)
        app = AioClock(clock=clock, store=SQLiteStore(path), loop_block_threshold=None)

        @app.task(trigger=Once(at=START + timedelta(hours=1)), name="migration")
        async def migration() -> None:
            fired.append(clock.now())

        async with serving(app):
            await clock.advance(seconds=5)
    assert fired == [START + timedelta(hours=3)]  # late but once; not on the next start


# ----- windows ---------------------------------------------------------------------------------


@time_limit()
async def test_every_starts_its_grid_at_start_at_and_stops_at_end_at(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(
        trigger=Every(seconds=10),
        name="phased",
        start_at=START + timedelta(seconds=3),
        end_at=START + timedelta(seconds=35),
    )
    async def phased() -> None: ...

    async with serving(app):
        await clock.advance(seconds=60)
    assert started_at(recorder, "phased") == [3.0, 13.0, 23.0, 33.0]


@time_limit()
async def test_a_window_across_a_dst_change_keeps_the_wall_clock() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=berlin)  # the day before spring forward
    clock = FakeClock(start=start)
    app = AioClock(clock=clock, loop_block_threshold=None)
    recorder = EventRecorder(app)

    @app.task(
        trigger=Cron(cron="30 * * * *", tz="Europe/Berlin"),
        name="half past",
        start_at=datetime(2026, 3, 29, 0, 0, tzinfo=berlin),
        end_at=datetime(2026, 3, 29, 4, 0, tzinfo=berlin),
    )
    async def half_past() -> None: ...

    async with serving(app):
        await clock.advance(hours=20)
    local = [
        e.run.scheduled_for.astimezone(berlin).strftime("%H:%M %Z")
        for e in recorder.of_type(RunStarted)
    ]
    # 02:30 does not exist that night: it runs at 03:00, as cron does; nothing outside.
    assert local == ["00:30 CET", "01:30 CET", "03:00 CEST", "03:30 CEST"]


@time_limit()
async def test_windows_apply_to_the_simulation_too(app: AioClock) -> None:
    from aioclock_core.simulation import simulate

    @app.task(
        trigger=Every(minutes=1),
        name="window",
        start_at=START + timedelta(minutes=10),
        end_at=START + timedelta(minutes=12),
    )
    async def window() -> None: ...

    simulation = simulate(app, START, START + timedelta(hours=1))
    (planned,) = [task for task in simulation.tasks if task.name == "window"]
    instants = planned.firings
    assert [(i - START).total_seconds() / 60 for i in instants] == [10, 11, 12]


# ----- misfire policies -----------------------------------------------------------------------


async def _late_wakeup(policy: str, grace: float | None) -> tuple[list[float], list[RunSkipped]]:
    clock = FakeClock(start=START)
    app = AioClock(clock=clock, loop_block_threshold=None)
    recorder = EventRecorder(app)
    calls: list[float] = []

    @app.task(
        trigger=Every(seconds=10),
        name="job",
        misfire=policy,  # type: ignore[arg-type]
        misfire_grace_time=grace,
    )
    async def job() -> None:
        calls.append((clock.now() - START).total_seconds())

    async with serving(app):
        await clock.jump(seconds=45)  # the loop wakes 45 s late: 4 firings are due
        await clock.advance(seconds=1)
    skips = recorder.of_type(RunSkipped)
    return calls, skips  # type: ignore[return-value]


@time_limit()
async def test_misfire_latest_runs_the_latest_missed_firing_once() -> None:
    calls, skips = await _late_wakeup("latest", None)
    assert calls == [45.0]
    assert [(s.count, (s.scheduled_for - START).total_seconds()) for s in skips] == [(3, 30.0)]


@time_limit()
async def test_misfire_earliest_runs_the_earliest_missed_firing_once() -> None:
    calls, skips = await _late_wakeup("earliest", None)
    assert calls == [45.0]
    assert [(s.count, (s.scheduled_for - START).total_seconds()) for s in skips] == [(3, 40.0)]


@time_limit()
async def test_misfire_all_runs_every_missed_firing_within_the_grace() -> None:
    calls, skips = await _late_wakeup("all", None)
    assert calls == [45.0] * 4
    assert skips == []
    calls, skips = await _late_wakeup("all", 20)
    assert calls == [45.0, 45.0]  # the firings at 30 and 40 s; 10 and 20 s are too late
    assert [s.reason for s in skips] == [SkipReason.MISSED] * 2


# ----- results --------------------------------------------------------------------------------


@time_limit()
async def test_run_now_can_wait_for_the_run_and_return_its_record(
    app: AioClock, clock: FakeClock
) -> None:
    @app.task(trigger=Every(hours=1), name="answer")
    async def answer() -> int:
        await clock.sleep(2)
        return 42

    async with serving(app):
        waiting = asyncio.ensure_future(app.run_now("answer", wait=True))
        await clock.advance(seconds=3)
        record = await waiting
        run_id = await app.run_now("answer")
    assert record is not None and record.result == "42" and record.kind is RunKind.MANUAL
    assert record.outcome is RunOutcome.SUCCEEDED and record.duration == 2
    assert run_id is not None and run_id != record.run_id


# ----- tasks while serving ------------------------------------------------------------------


@time_limit()
async def test_a_task_registered_while_serving_is_planned_and_announced(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="first")
    async def first() -> None: ...

    async with serving(app):
        await clock.advance(seconds=5)

        @app.task(trigger=Every(seconds=10), name="late", timeout=3)
        async def late() -> None: ...

        assert app.snapshot("late").next_fire_time == clock.now() + timedelta(seconds=10)
        await clock.advance(seconds=10)
        run_id = await app.run_now("late")
        await clock.advance(seconds=1)
    assert started_at(recorder, "late")[0] == 15.0
    assert run_id is not None
    (added,) = recorder.of_type(TaskAdded)
    assert (added.task_name, added.trigger, added.timeout) == ("late", "every 10 s", 3)


@time_limit()
async def test_a_group_included_while_serving_runs_its_tasks(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    group = Group(name="later")

    @group.task(trigger=Every(seconds=10), name="grouped")
    async def grouped() -> None: ...

    @app.task(trigger=Every(hours=1), name="anchor")
    async def anchor() -> None: ...

    async with serving(app):
        app.include_group(group)
        await clock.advance(seconds=10)
    assert started_at(recorder, "grouped") == [10.0]


@time_limit()
async def test_a_removed_task_fires_no_more_and_its_history_stays(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="gone")
    async def gone() -> None:
        await clock.sleep(4)

    @app.task(trigger=Every(seconds=10), name="kept")
    async def kept() -> None: ...

    async with serving(app):
        await clock.advance(seconds=12)  # gone's run of 10 s is going
        cancelled = await app.remove_task("gone", cancel_running=True)
        await clock.advance(seconds=30)
        history = await app.store.recent_runs(limit=50)
    assert cancelled
    assert [e.run.outcome for e in finished(recorder, "gone")] == [RunOutcome.CANCELLED]
    assert started_at(recorder, "gone") == [10.0]
    assert len(started_at(recorder, "kept")) == 4
    assert "gone" not in [task.name for task in app.tasks]
    assert [e.task_name for e in recorder.of_type(TaskRemoved)] == ["gone"]
    assert "gone" in {run.task_name for run in history}


@time_limit()
async def test_reschedule_replaces_the_trigger_and_plans_from_now(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=25)
        await app.reschedule("tick", Every(minutes=1))
        await clock.advance(seconds=130)
    assert started_at(recorder, "tick") == [10.0, 20.0, 85.0, 145.0]
    (event,) = recorder.of_type(TaskRescheduled)
    assert event.trigger == "every 1 min"


@time_limit()
async def test_tasks_are_added_removed_and_rescheduled_from_another_thread(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="base")
    async def base() -> None: ...

    async with serving(app):
        control = app.threadsafe

        def from_a_thread() -> None:
            app.task(trigger=Every(seconds=10), name="threaded")(_noop)
            control.reschedule("base", Every(seconds=30)).result(timeout=5)

        worker = threading.Thread(target=from_a_thread)
        worker.start()
        await asyncio.to_thread(worker.join, 5)
        await clock.advance(seconds=30)
        await asyncio.wrap_future(control.remove_task("threaded"))
        await clock.advance(seconds=30)
    assert started_at(recorder, "threaded") == [10.0, 20.0, 30.0]
    assert started_at(recorder, "base") == [30.0, 60.0]


# ----- AndTrigger ----------------------------------------------------------------------------


def test_and_trigger_fires_at_the_latest_of_instants_within_the_threshold() -> None:
    anchor = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
    trigger = AndTrigger([Every(hours=6), Cron(cron="0 6,18 * * *", tz="UTC")], threshold=1)
    after = None
    firings = []
    for _ in range(3):
        after = trigger.next_fire_time(after, anchor)
        firings.append(after)
    assert firings == [anchor + timedelta(hours=h) for h in (6, 18, 30)]
    with pytest.raises(ValueError, match="at least two triggers"):
        AndTrigger([Every(hours=1)])
