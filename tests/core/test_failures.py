"""Failures stop at the task: a raising task keeps its schedule; timeouts (task and group);
functions that cannot be tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from aioclock_core import AioClock, Every, Group, Once
from aioclock_core.events import RunFinished, RunOutcome
from aioclock_core.exceptions import BaseAioClockException, TaskTimeoutError
from aioclock_core.testing import EventRecorder, FakeClock, serving


async def test_a_raising_task_keeps_its_schedule(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10))
    async def broken() -> None:
        raise RuntimeError("database is down")

    async with serving(app):
        await clock.advance(seconds=30)

    finished = recorder.of_type(RunFinished)
    assert [e.run.outcome for e in finished] == [RunOutcome.FAILED] * 3
    assert finished[0].run.error_type == "RuntimeError"
    assert finished[0].run.error_message == "database is down"
    assert "database is down" in (finished[0].run.traceback or "")
    assert "in broken" in (finished[0].run.traceback or "")


async def test_a_raising_task_does_not_disturb_others(app: AioClock, clock: FakeClock) -> None:
    good = []

    @app.task(trigger=Every(seconds=10))
    async def broken() -> None:
        raise RuntimeError("x")

    @app.task(trigger=Every(seconds=10))
    def fine() -> None:
        good.append(1)

    async with serving(app):
        await clock.advance(seconds=30)

    assert good == [1, 1, 1]


async def test_task_timeout_cancels_the_run_and_reports_timed_out(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=60), timeout=5)
    async def slow() -> None:
        await clock.sleep(30)

    async with serving(app):
        await clock.advance(seconds=125)

    finished = recorder.of_type(RunFinished)
    assert [e.run.outcome for e in finished] == [RunOutcome.TIMED_OUT] * 2
    assert all(e.run.duration == 5 for e in finished)


async def test_group_timeout_is_the_default_and_a_task_timeout_wins(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    group = Group(timeout=2, name="reports")

    @group.task(trigger=Every(seconds=60), name="uses-group")
    async def uses_group() -> None:
        await clock.sleep(10)

    @group.task(trigger=Every(seconds=60), timeout=20, name="own")
    async def own() -> None:
        await clock.sleep(10)

    app.include_group(group)
    async with serving(app):
        await clock.advance(seconds=75)

    outcomes = {e.task_name: (e.run.outcome, e.run.duration) for e in recorder.of_type(RunFinished)}
    assert outcomes == {
        "uses-group": (RunOutcome.TIMED_OUT, 2),
        "own": (RunOutcome.SUCCEEDED, 10),
    }


def test_task_timeout_error_is_a_timeout_error_and_a_package_error() -> None:
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert issubclass(TaskTimeoutError, BaseAioClockException)


class CustomBaseError(BaseException):
    """Not an Exception: what some libraries raise to unwind."""


@pytest.mark.parametrize(
    "error",
    [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), CustomBaseError("unwinding")],
    ids=["SystemExit", "KeyboardInterrupt", "GeneratorExit", "custom BaseException"],
)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_task_raising_a_base_exception_is_a_failed_run_and_the_app_goes_on(
    app: AioClock, clock: FakeClock, recorder: EventRecorder, error: BaseException, kind: str
) -> None:
    calls = []

    def body() -> None:
        calls.append(clock.now())
        raise error

    if kind == "async":

        @app.task(trigger=Every(seconds=10), name="unwinds")
        async def unwinds() -> None:
            body()

    else:
        app.task(trigger=Every(seconds=10), name="unwinds")(body)

    async with serving(app):
        await clock.advance(seconds=30)
        assert app.is_running

    finished = recorder.of_type(RunFinished)
    assert len(calls) == 3
    assert [e.run.outcome for e in finished] == [RunOutcome.FAILED] * 3
    assert finished[0].run.error_type == type(error).__name__
    assert type(error).__name__ in (finished[0].run.traceback or "")


async def test_sys_exit_in_a_sync_task_is_a_failed_run_not_a_success(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    import sys

    @app.task(trigger=Every(seconds=10), name="exits")
    def exits() -> None:
        sys.exit(5)

    async with serving(app):
        await clock.advance(seconds=10)
    (finished,) = recorder.of_type(RunFinished)
    assert (finished.run.outcome, finished.run.error_type, finished.run.error_message) == (
        RunOutcome.FAILED,
        "SystemExit",
        "5",
    )


def generator() -> Iterator[int]:
    yield 1


async def async_generator() -> AsyncIterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("func", "kind"), [(generator, "a generator"), (async_generator, "an async generator")]
)
def test_a_generator_function_is_refused_at_registration(
    app: AioClock, func: object, kind: str
) -> None:
    with pytest.raises(TypeError, match=f"is {kind} function \\(it uses yield\\)"):
        app.task(trigger=Once(), name="gen")(func)  # type: ignore[type-var]
    assert app.tasks == []


async def test_a_sync_task_returning_a_coroutine_fails_saying_why(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    ran = []

    async def body() -> None:
        ran.append(1)

    app.task(trigger=Once(), name="lambda")(lambda: body())
    async with serving(app):
        await clock.advance(seconds=1)

    [event] = recorder.of_type(RunFinished)
    finished = event.run  # type: ignore[attr-defined]
    assert finished.outcome is RunOutcome.FAILED
    assert finished.error_type == "TypeError"
    assert "returned a coroutine" in (finished.error_message or "")
    assert "define it with async def" in (finished.error_message or "")
    assert ran == []
