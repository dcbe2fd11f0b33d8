"""Worker threads of sync tasks keep their limiter token and overlap slot until the body
really returns, even after their run timed out: Python cannot stop a thread."""

from __future__ import annotations

import logging
import threading

import anyio
import pytest

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import (
    RunFinished,
    RunOutcome,
    RunSkipped,
    SkipReason,
    ThreadOverran,
    ThreadReturned,
)
from aioclock_core.state import TaskState
from aioclock_core.testing import EventRecorder, FakeClock, serving
from tests.bounds import time_limit


class Bodies:
    """Counts the bodies running at once, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.started = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.started += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


@time_limit()
async def test_a_timed_out_thread_keeps_its_limiter_token_until_its_body_returns(
    clock: FakeClock,
) -> None:
    limiter = anyio.CapacityLimiter(2)
    app = AioClock(clock=clock, limiter=limiter, loop_block_threshold=None)
    recorder = EventRecorder(app)
    bodies = Bodies()

    @app.task(
        trigger=Every(seconds=2, max_loop_count=10), timeout=1, max_concurrent_runs=20, name="hangs"
    )
    def hangs() -> None:
        with bodies:
            clock.sleep_in_thread(30)

    async with serving(app):
        await clock.advance(seconds=20)
        assert bodies.most == 2  # 10 timeouts, never more threads than the limiter allows
        assert limiter.borrowed_tokens == 2
        assert app.snapshot("hangs").overrunning_threads == app.overrunning_threads == 2
        await clock.advance(seconds=40)  # every body returned
        assert (limiter.borrowed_tokens, bodies.started) == (0, 2)

    finished = recorder.of_type(RunFinished)
    assert {e.run.outcome for e in finished} == {RunOutcome.TIMED_OUT}
    waited = [e for e in finished if "waiting for a worker thread" in (e.run.error_message or "")]
    assert waited, "runs that found both tokens taken say so"
    assert len(recorder.of_type(ThreadReturned)) == len(recorder.of_type(ThreadOverran))


@time_limit()
async def test_a_timed_out_thread_keeps_the_tasks_overlap_slot_until_its_body_returns(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    bodies = Bodies()

    @app.task(trigger=Every(seconds=10), timeout=5, name="slow")
    def slow() -> None:
        with bodies:
            clock.sleep_in_thread(35)

    async with serving(app):
        await clock.advance(seconds=15)  # the run timed out at 15 s; its thread runs on
        snapshot = app.snapshot("slow")
        assert (snapshot.state, snapshot.running, snapshot.overrunning_threads) == (
            TaskState.OVERRUN,
            0,
            1,
        )
        await clock.advance(seconds=30)  # 45 s: the body returned at 45 s
        assert app.snapshot("slow").overrunning_threads == 0

    assert bodies.most == 1, "two bodies of a max_concurrent_runs=1 task ran at once"
    skipped = [e.scheduled_for.second for e in recorder.of_type(RunSkipped)]
    assert skipped == [20, 30, 40]
    assert {e.reason for e in recorder.of_type(RunSkipped)} == {SkipReason.OVERLAP}
    first = recorder.of_type(RunFinished)[0]
    assert first.run.outcome is RunOutcome.TIMED_OUT
    assert "worker thread is still running" in (first.run.error_message or "")
    (overran,) = recorder.of_type(ThreadOverran)[:1]
    returned = recorder.of_type(ThreadReturned)[0]
    assert overran.run == first.run == returned.run
    assert (returned.at.second, returned.overran) == (45, 30.0)


@time_limit()
async def test_a_thread_outliving_the_grace_period_is_left_and_the_shutdown_says_so(
    app: AioClock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    @app.task(trigger=Once(), timeout=1, name="stuck")
    def stuck() -> None:
        clock.sleep_in_thread(100)

    with caplog.at_level(logging.WARNING, "aioclock"):
        async with serving(app, grace=2):
            await clock.advance(seconds=1)
            assert app.snapshot("stuck").overrunning_threads == 1
    assert "1 worker thread(s) still running after the 2 s grace period" in caplog.text
    await clock.advance(seconds=100)  # let the thread return before the test ends


@time_limit()
async def test_an_app_whose_triggers_are_done_waits_for_its_overrunning_threads(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Once(), timeout=1, name="once")
    def once() -> None:
        clock.sleep_in_thread(10)

    async with serving(app):
        await clock.advance(seconds=5)
        assert app.is_running  # the run ended at 1 s, its thread has not
        await clock.advance(seconds=10)
        assert not app.is_running
    assert [type(e).__name__ for e in recorder.events if "Thread" in type(e).__name__] == [
        "ThreadOverran",
        "ThreadReturned",
    ]
