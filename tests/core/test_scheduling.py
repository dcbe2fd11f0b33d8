"""Scheduling on the fake clock: fixed rate, overlap, misfire coalescing, Forever, OrTrigger."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioclock_core import AioClock, Every, Forever, Once, OrTrigger
from aioclock_core.events import RunFinished, RunSkipped, RunStarted, SkipReason
from aioclock_core.testing import EventRecorder, FakeClock, serving

from .conftest import START


async def test_every_fires_at_fixed_rate_whatever_the_body_takes(
    app: AioClock, clock: FakeClock
) -> None:
    starts = []

    @app.task(trigger=Every(seconds=10))
    async def slowish() -> None:
        starts.append(clock.now())
        await clock.sleep(3)

    async with serving(app):
        await clock.advance(seconds=60)

    assert starts == [START + timedelta(seconds=10 * k) for k in range(1, 7)]


async def test_every_immediate_runs_at_start(app: AioClock, clock: FakeClock) -> None:
    starts = []

    @app.task(trigger=Every(seconds=5, first_run_strategy="immediate"))
    async def tick() -> None:
        starts.append(clock.now())

    async with serving(app):
        await clock.advance(seconds=10)

    assert starts == [START, START + timedelta(seconds=5), START + timedelta(seconds=10)]


async def test_a_firing_that_finds_the_previous_run_going_is_skipped_as_overlap(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10))
    async def slow() -> None:
        await clock.sleep(15)

    async with serving(app):
        await clock.advance(seconds=40)

    skipped = recorder.of_type(RunSkipped)
    assert [(e.reason, e.scheduled_for) for e in skipped] == [
        (SkipReason.OVERLAP, START + timedelta(seconds=20)),
        (SkipReason.OVERLAP, START + timedelta(seconds=40)),
    ]
    started = [e.run.scheduled_for for e in recorder.of_type(RunStarted)]
    assert started == [START + timedelta(seconds=10), START + timedelta(seconds=30)]


async def test_max_concurrent_runs_lets_runs_overlap(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), max_concurrent_runs=2)
    async def slow() -> None:
        await clock.sleep(15)

    async with serving(app):
        await clock.advance(seconds=30)

    assert len(recorder.of_type(RunStarted)) == 3
    assert recorder.of_type(RunSkipped) == []


async def test_late_wakeup_coalesces_missed_firings_into_one_run(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10))
    async def tick() -> None:
        pass

    async with serving(app):
        await clock.advance(seconds=10)
        # The loop is stalled (suspend, blocked loop): time jumps without the timer firing.
        clock._now += 45
        await clock.advance(seconds=0)
        await clock.advance_to_next()

    started = [e.run.scheduled_for for e in recorder.of_type(RunStarted)]
    assert started[:2] == [START + timedelta(seconds=10), START + timedelta(seconds=50)]
    missed = recorder.of_type(RunSkipped)
    # 20, 30 and 40 s were missed; the skip names the latest of them.
    assert [(e.reason, e.count, e.scheduled_for) for e in missed] == [
        (SkipReason.MISSED, 3, START + timedelta(seconds=40))
    ]


async def test_firing_later_than_misfire_grace_time_is_reported_missed(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(minutes=1), misfire_grace_time=5)
    async def tick() -> None:
        pass

    async with serving(app):
        clock._now += 70
        await clock.advance(seconds=0)

    assert recorder.of_type(RunStarted) == []
    (missed,) = recorder.of_type(RunSkipped)
    assert missed.reason is SkipReason.MISSED
    assert missed.scheduled_for == START + timedelta(minutes=1)


async def test_max_loop_count_ends_the_task_and_serve_returns(
    app: AioClock, clock: FakeClock
) -> None:
    runs = []

    @app.task(trigger=Every(seconds=1, max_loop_count=3))
    async def three() -> None:
        runs.append(clock.now())

    serve = asyncio.create_task(app.serve())
    await clock.settle()
    for _ in range(5):
        await clock.advance_to_next()
    await asyncio.wait_for(serve, 2)
    assert len(runs) == 3


async def test_forever_runs_back_to_back(app: AioClock, clock: FakeClock) -> None:
    starts = []

    @app.task(trigger=Forever())
    async def loop() -> None:
        starts.append(clock.now())
        await clock.sleep(2)

    async with serving(app):
        await clock.advance(seconds=5)

    assert starts == [START, START + timedelta(seconds=2), START + timedelta(seconds=4)]


async def test_or_trigger_of_two_once_fires_twice(app: AioClock, clock: FakeClock) -> None:
    runs = []

    @app.task(trigger=OrTrigger(triggers=[Once(), Once()]))
    async def twice() -> None:
        runs.append(clock.now())

    async with serving(app):
        await clock.advance(seconds=1)

    assert len(runs) == 2


async def test_or_trigger_fires_for_each_inner_firing_even_at_one_instant(
    app: AioClock, clock: FakeClock
) -> None:
    runs = []

    @app.task(trigger=OrTrigger(triggers=[Every(seconds=30), Every(seconds=45)]))
    async def either() -> None:
        runs.append((clock.now() - START).total_seconds())

    async with serving(app):
        await clock.advance(seconds=95)

    # Each inner trigger keeps its own firings (as OrTrigger([Once(), Once()]) fires
    # twice): at 90 s both fire, the second run starts when the first has ended.
    assert runs == [30, 45, 60, 90, 90]


async def test_a_zero_period_runs_its_max_loop_count_at_the_start_then_ends(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=0, max_loop_count=3), name="burst")
    async def burst() -> None:
        await clock.sleep(1)

    serve = asyncio.create_task(app.serve())
    await app.wait_started()
    assert app.upcoming("burst", 5) == [START, START]  # the first run has started
    await clock.advance(seconds=3)
    await asyncio.wait_for(serve, 2)  # the trigger is exhausted: no endless firing

    started = recorder.of_type(RunStarted)
    assert [e.run.scheduled_for for e in started] == [START] * 3
    assert [e.run.started_at for e in started] == [START + timedelta(seconds=k) for k in range(3)]
    assert recorder.of_type(RunSkipped) == []


async def test_a_week_of_daily_cron_runs_in_simulated_time(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    from aioclock_core import Cron

    @app.task(trigger=Cron(cron="0 3 * * *", tz="Europe/Berlin"))
    async def nightly() -> None:
        pass

    async with serving(app):
        await clock.advance(days=7)

    finished = recorder.of_type(RunFinished)
    assert len(finished) == 7
    assert {e.run.scheduled_for.hour for e in finished} == {2}  # 03:00 CET = 02:00 UTC


async def test_an_exhausted_task_is_announced_once(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    from aioclock_core.events import TaskScheduled

    @app.task(trigger=Every(seconds=10, max_loop_count=2))
    async def twice() -> None: ...

    async with serving(app):
        await clock.advance(seconds=30)

    nexts = [e.next_fire_time for e in recorder.of_type(TaskScheduled)]
    assert nexts == [START + timedelta(seconds=10), START + timedelta(seconds=20), None]


async def test_a_burst_holds_the_collector_until_its_runs_end(clock: FakeClock) -> None:
    import gc

    app = AioClock(clock=clock, loop_block_threshold=None)
    enabled_during_runs: list[bool] = []
    for index in range(300):

        async def body() -> None:
            enabled_during_runs.append(gc.isenabled())

        app.task(trigger=Every(seconds=10), name=f"burst-{index}")(body)

    assert gc.isenabled()
    async with serving(app):
        await clock.advance(seconds=10)
        assert gc.isenabled(), "the collector must be back once the burst's runs ended"
    assert len(enabled_during_runs) == 300
    assert not any(enabled_during_runs)


async def test_the_collector_is_left_alone_when_switched_off(clock: FakeClock) -> None:
    import gc

    app = AioClock(clock=clock, loop_block_threshold=None, pause_gc_in_bursts=False)
    enabled_during_runs: list[bool] = []
    for index in range(300):

        async def body() -> None:
            enabled_during_runs.append(gc.isenabled())

        app.task(trigger=Every(seconds=10), name=f"burst-{index}")(body)

    async with serving(app):
        await clock.advance(seconds=10)
    assert all(enabled_during_runs)


async def test_what_exists_at_the_start_is_frozen_while_serving_and_thawed_after(
    clock: FakeClock,
) -> None:
    """Collections while serving must not rescan the tasks' own structures (a full
    collection at 10,000 tasks took 130-190 ms); nothing stays frozen once serve() ends."""
    import gc

    app = AioClock(clock=clock, loop_block_threshold=None)

    @app.task(trigger=Every(seconds=10))
    async def tick() -> None:
        return None

    gc.unfreeze()
    async with serving(app):
        frozen_while_serving = gc.get_freeze_count()
        await clock.advance(seconds=10)
    assert frozen_while_serving > 1000  # the modules and the app, not just a few objects
    assert gc.get_freeze_count() == 0


async def test_nothing_is_frozen_when_switched_off(clock: FakeClock) -> None:
    import gc

    app = AioClock(clock=clock, loop_block_threshold=None, freeze_gc_at_start=False)

    @app.task(trigger=Every(seconds=10))
    async def tick() -> None:
        return None

    gc.unfreeze()
    async with serving(app):
        assert gc.get_freeze_count() == 0


async def test_tasks_planned_at_one_instant_fire_once_each_in_the_order_planned(
    app: AioClock, clock: FakeClock
) -> None:
    # They share one place on the scheduler's heap: a task removed from it, or planned
    # again at that very instant, must still fire once or not at all.
    fired: list[str] = []
    for name in ("a", "b", "c", "d", "e"):

        async def body(name: str = name) -> None:
            fired.append(name)

        app.task(trigger=Every(seconds=10), name=name)(body)

    async with serving(app):
        await clock.advance(seconds=5)
        await app.remove_task("b")
        await app.reschedule("c", Every(seconds=5))  # from now: again at 10 s, then 15 s
        await clock.advance(seconds=5)
        assert sorted(fired) == ["a", "c", "d", "e"]
        assert fired.index("a") < fired.index("d") < fired.index("e")
        await clock.advance(seconds=10)
        assert sorted(fired[4:]) == ["a", "c", "c", "d", "e"]
