"""Control API on a serving app: pause, resume, run now, cancel, thread-safe variants."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from aioclock_core import AioClock, Depends, Every
from aioclock_core.events import (
    RunFinished,
    RunKind,
    RunOutcome,
    RunSkipped,
    RunStarted,
    SkipReason,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.exceptions import SchedulerNotRunningError, TaskIdNotFound
from aioclock_core.state import TaskState
from aioclock_core.testing import EventRecorder, FakeClock, serving

from .conftest import START


async def test_paused_task_skips_its_firings_until_resumed(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    runs = []

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None:
        runs.append(clock.now())

    async with serving(app):
        assert await app.pause("tick") is True
        assert app.snapshot("tick").state is TaskState.PAUSED
        await clock.advance(seconds=20)
        assert runs == []
        assert await app.resume("tick") is True
        await clock.advance(seconds=10)

    assert len(runs) == 1
    assert [e.reason for e in recorder.of_type(RunSkipped)] == [SkipReason.PAUSED] * 2
    assert len(recorder.of_type(TaskPaused)) == 1
    assert len(recorder.of_type(TaskResumed)) == 1


async def test_pause_all_and_resume_all_count_what_changed(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=10), name="a")
    async def a() -> None: ...

    @app.task(trigger=Every(seconds=10), name="b")
    async def b() -> None: ...

    async with serving(app):
        await app.pause("a")
        assert await app.pause_all() == 1
        assert all(s.paused for s in app.snapshots())
        assert await app.resume_all() == 2


async def test_run_now_goes_through_di_and_reports_a_manual_run(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    seen = []

    def config() -> str:
        return "injected"

    @app.task(trigger=Every(hours=1), name="report")
    async def report(value: str = Depends(config)) -> None:
        seen.append(value)

    async with serving(app):
        run_id = await app.run_now("report")
        await clock.settle()

    assert seen == ["injected"]
    (started,) = recorder.of_type(RunStarted)
    assert started.run.kind is RunKind.MANUAL and started.run.run_id == run_id
    (finished,) = recorder.of_type(RunFinished)
    assert finished.run.outcome is RunOutcome.SUCCEEDED


async def test_run_now_respects_the_timeout(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(hours=1), name="slow", timeout=5)
    async def slow() -> None:
        await clock.sleep(60)

    async with serving(app):
        await app.run_now("slow")
        await clock.advance(seconds=6)

    (finished,) = recorder.of_type(RunFinished)
    assert finished.run.outcome is RunOutcome.TIMED_OUT
    assert finished.run.error_type == "TaskTimeoutError"
    assert app.snapshot("slow").failure_count == 1


async def test_run_now_while_running_is_skipped_by_the_overlap_rule(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(hours=1), name="slow")
    async def slow() -> None:
        await clock.sleep(60)

    async with serving(app):
        assert await app.run_now("slow") is not None
        await clock.settle()
        assert await app.run_now("slow") is None

    assert [e.reason for e in recorder.of_type(RunSkipped)] == [SkipReason.OVERLAP]


async def test_a_paused_task_can_still_be_run_by_hand(app: AioClock, clock: FakeClock) -> None:
    runs = []

    @app.task(trigger=Every(hours=1), name="t")
    async def t() -> None:
        runs.append(1)

    async with serving(app):
        await app.pause("t")
        await app.run_now("t")
        await clock.settle()

    assert runs == [1]


async def test_cancel_run_cancels_the_running_run(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="slow")
    async def slow() -> None:
        await clock.sleep(60)

    async with serving(app):
        await clock.advance(seconds=10)
        assert app.snapshot("slow").state is TaskState.RUNNING
        assert await app.cancel_run("slow") == 1
        await clock.settle()
        assert app.snapshot("slow").state is TaskState.IDLE
        await clock.advance(seconds=10)
        assert app.snapshot("slow").state is TaskState.RUNNING

    outcomes = [e.run.outcome for e in recorder.of_type(RunFinished)]
    assert outcomes[0] is RunOutcome.CANCELLED


async def test_unknown_task_is_refused_with_the_known_names(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=10), name="known")
    async def known() -> None: ...

    async with serving(app):
        with pytest.raises(TaskIdNotFound, match="known"):
            await app.pause("nope")


@pytest.mark.parametrize("reference", [None, 123])
async def test_a_task_reference_that_is_not_a_name_or_id_is_refused_naming_it(
    app: AioClock, reference: object
) -> None:
    @app.task(trigger=Every(seconds=10), name="known")
    async def known() -> None: ...

    async with serving(app):
        with pytest.raises(TypeError, match=rf"a str or UUID\), got {reference!r} "):
            await app.pause(reference)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="got None"):
            app.snapshot(None)  # type: ignore[arg-type]


async def test_control_before_serving_says_the_app_is_not_serving(app: AioClock) -> None:
    with pytest.raises(SchedulerNotRunningError, match="serve"):
        await app.pause("anything")


async def test_threadsafe_control_from_another_thread(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(hours=1), name="t")
    async def t() -> None: ...

    results: list[object] = []
    async with serving(app):

        def from_thread() -> None:
            results.append(app.threadsafe.pause("t").result(timeout=5))
            results.append(app.threadsafe.run_now("t").result(timeout=5))

        thread = threading.Thread(target=from_thread)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.001)
        await clock.settle()

    assert results[0] is True
    assert len(recorder.of_type(RunFinished)) == 1


def test_threadsafe_control_refuses_when_not_serving(app: AioClock) -> None:
    with pytest.raises(SchedulerNotRunningError):
        app.threadsafe.pause("t")


async def test_snapshot_tracks_last_run_and_counts(app: AioClock, clock: FakeClock) -> None:
    calls = 0

    @app.task(trigger=Every(seconds=10), name="flaky")
    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ValueError("boom")

    async with serving(app):
        await clock.advance(seconds=20)
        snap = app.snapshot("flaky")
        assert snap.run_count == 2 and snap.failure_count == 1
        assert snap.last_run is not None and snap.last_run.error_type == "ValueError"
        assert snap.next_fire_time == START + timedelta(seconds=30)
        assert app.upcoming("flaky", 3)[0] == snap.next_fire_time


async def test_control_after_serving_stopped_is_refused_but_reads_work(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=10), name="t")
    async def t() -> None: ...

    async with serving(app):
        pass
    with pytest.raises(SchedulerNotRunningError):
        await app.run_now("t")
    with pytest.raises(SchedulerNotRunningError):
        app.threadsafe.pause("t")
    assert app.snapshot("t").run_count == 0
