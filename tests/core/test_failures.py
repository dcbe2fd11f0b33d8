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
    assert [e.outcome for e in finished] == [RunOutcome.FAILED] * 3
    assert finished[0].error_type == "RuntimeError"
    assert finished[0].error_message == "database is down"
    assert "database is down" in (finished[0].traceback or "")
    assert "in broken" in (finished[0].traceback or "")


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
    assert [e.outcome for e in finished] == [RunOutcome.TIMED_OUT] * 2
    assert all(e.duration == 5 for e in finished)


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

    outcomes = {e.task_name: (e.outcome, e.duration) for e in recorder.of_type(RunFinished)}
    assert outcomes == {
        "uses-group": (RunOutcome.TIMED_OUT, 2),
        "own": (RunOutcome.SUCCEEDED, 10),
    }


def test_task_timeout_error_is_a_timeout_error_and_a_package_error() -> None:
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert issubclass(TaskTimeoutError, BaseAioClockException)


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

    [finished] = recorder.of_type(RunFinished)
    assert finished.outcome is RunOutcome.FAILED
    assert finished.error_type == "TypeError"
    assert "returned a coroutine" in (finished.error_message or "")
    assert "define it with async def" in (finished.error_message or "")
    assert ran == []
