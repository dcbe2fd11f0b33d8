"""serve(): lifespan order, start-up/shut-down tasks, exhaustion, shutdown with grace, cancel."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from contextlib import asynccontextmanager, contextmanager

import pytest

from aioclock_core import AioClock, Depends, Every, Once, OnShutDown, OnStartUp
from aioclock_core.events import RunFinished, RunOutcome, SchedulerStopped, SchedulerStopping
from aioclock_core.testing import EventRecorder, FakeClock, serving


async def test_lifespan_wraps_startup_tasks_and_shutdown_tasks_in_order(clock: FakeClock) -> None:
    order: list[str] = []

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[AioClock]:
        order.append("enter")
        yield app
        order.append("exit")

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        start_trigger, stop_trigger = OnStartUp(), OnShutDown()

    @app.task(trigger=start_trigger)
    async def startup() -> None:
        order.append("startup")

    @app.task(trigger=Once())
    async def work() -> None:
        order.append("work")

    @app.task(trigger=stop_trigger)
    async def shutdown() -> None:
        order.append("shutdown")

    await asyncio.wait_for(app.serve(), 5)
    assert order == ["enter", "startup", "work", "shutdown", "exit"]


async def test_sync_lifespan_with_a_dependency(clock: FakeClock) -> None:
    order: list[str] = []

    def setting() -> str:
        return "db-url"

    @contextmanager
    def lifespan(app: AioClock, url: str = Depends(setting)) -> Iterator[AioClock]:
        order.append(f"enter {url}")
        yield app
        order.append("exit")

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)

    @app.task(trigger=Once())
    def work() -> None:
        order.append("work")

    await asyncio.wait_for(app.serve(), 5)
    assert order == ["enter db-url", "work", "exit"]


async def test_serve_returns_when_every_trigger_is_exhausted(app: AioClock) -> None:
    @app.task(trigger=Once())
    async def once() -> None: ...

    @app.task(trigger=Every(seconds=1, max_loop_count=2, first_run_strategy="immediate"))
    async def twice() -> None: ...

    serve = asyncio.create_task(app.serve())
    clock = app.clock
    assert isinstance(clock, FakeClock)
    while not serve.done():
        if await clock.advance_to_next() is None:
            await asyncio.sleep(0)
    await asyncio.wait_for(serve, 2)


async def test_shutdown_gives_running_runs_their_grace_period(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(seconds=10), name="short")
    async def short() -> None:
        await clock.sleep(3)

    @app.task(trigger=Every(seconds=10), name="long")
    async def long() -> None:
        await clock.sleep(60)

    exits: list[str] = []
    serve = asyncio.create_task(app.serve())
    await app.wait_started()
    await clock.advance(seconds=10)
    stopping = asyncio.create_task(app.shutdown(grace=5))
    await clock.advance(seconds=5)
    await asyncio.wait_for(stopping, 2)
    await asyncio.wait_for(serve, 2)
    exits.append("done")

    outcomes = {e.task_name: e.run.outcome for e in recorder.of_type(RunFinished)}
    assert outcomes == {"short": RunOutcome.SUCCEEDED, "long": RunOutcome.CANCELLED}
    (stopping_event,) = recorder.of_type(SchedulerStopping)
    assert stopping_event.grace == 5
    assert len(recorder.of_type(SchedulerStopped)) == 1


def lifespan_noting(order: list[str], step: str) -> Callable[[AioClock], AsyncContextManager[None]]:
    """A lifespan that appends `step` to `order` on its way out."""

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        yield
        order.append(step)

    return lifespan


async def test_cancelling_serve_runs_the_lifespan_exit_and_reraises(clock: FakeClock) -> None:
    order: list[str] = []
    lifespan = lifespan_noting(order, "exit")
    app = AioClock(lifespan=lifespan, clock=clock, shutdown_grace=0, loop_block_threshold=None)

    @app.task(trigger=Every(seconds=1))
    async def tick() -> None:
        await clock.sleep(100)

    serve = asyncio.create_task(app.serve())
    await app.wait_started()
    await clock.advance(seconds=1)
    serve.cancel()
    while not serve.done():
        if await clock.advance_to_next() is None:
            await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        serve.result()
    assert order == ["exit"]


async def test_lifespan_that_returns_no_context_manager_is_refused(clock: FakeClock) -> None:
    app = AioClock(lifespan=lambda app: None, clock=clock, loop_block_threshold=None)
    with pytest.raises(TypeError, match="context manager"):
        await asyncio.wait_for(app.serve(), 2)


async def test_serving_twice_at_once_is_refused(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=1))
    async def tick() -> None: ...

    async with serving(app):
        with pytest.raises(RuntimeError, match="already serving"):
            await app.serve()


@pytest.mark.parametrize("grace", [1e12, -1, float("nan")])
def test_a_shutdown_grace_out_of_range_is_refused_naming_it(grace: float) -> None:
    with pytest.raises(ValueError, match=r"shutdown_grace must be seconds from 0 to 100 years"):
        AioClock(shutdown_grace=grace)


def on_shutdown() -> OnShutDown:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return OnShutDown()


async def test_a_second_shutdown_request_cancels_runs_now_and_still_runs_the_shutdown_steps(
    clock: FakeClock,
) -> None:
    order: list[str] = []
    lifespan = lifespan_noting(order, "lifespan exit")
    app = AioClock(lifespan=lifespan, clock=clock, shutdown_grace=60, loop_block_threshold=None)
    recorder = EventRecorder(app)

    @app.task(trigger=Once(), name="long")
    async def long() -> None:
        await clock.sleep(3600)

    @app.task(trigger=on_shutdown(), name="on stop")
    async def on_stop() -> None:
        order.append("on shutdown")

    serve = asyncio.create_task(app.serve())
    await app.wait_started()
    await clock.advance(seconds=1)
    app.request_shutdown()  # 60 s of grace...
    await clock.advance(seconds=1)
    app.request_shutdown()  # ...cut short: no more time passes
    await asyncio.wait_for(serve, 2)

    assert order == ["on shutdown", "lifespan exit"]
    finished = {e.task_name: (e.run.outcome, e.run.duration) for e in recorder.of_type(RunFinished)}
    assert finished == {
        "long": (RunOutcome.CANCELLED, 2.0),
        "on stop": (RunOutcome.SUCCEEDED, 0.0),
    }


async def serve_then_ask_twice_to_stop(app: AioClock) -> asyncio.Task[None]:
    """Serve `app` (given an hourly task to keep it serving), then request shutdown twice;
    returns the task running serve()."""

    @app.task(trigger=Every(hours=1), name="hourly")
    async def hourly() -> None: ...

    serve = asyncio.create_task(app.serve())
    await app.wait_started()
    app.request_shutdown()
    app.request_shutdown()
    return serve


async def test_once_hurried_the_shutdown_tasks_and_the_lifespan_exit_get_5_s_each(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    order: list[str] = []

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        yield
        order.append("lifespan exit started")
        await clock.sleep(60)
        order.append("lifespan exit finished")

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)
    recorder = EventRecorder(app)

    @app.task(trigger=on_shutdown(), name="on stop")
    async def on_stop() -> None:
        await clock.sleep(60)

    serve = await serve_then_ask_twice_to_stop(app)
    await clock.advance(seconds=5)
    await clock.settle()
    assert order == ["lifespan exit started"]
    await clock.advance(seconds=5)
    await asyncio.wait_for(serve, 2)

    assert order == ["lifespan exit started"]
    (finished,) = recorder.of_type(RunFinished)
    assert (finished.task_name, finished.run.outcome, finished.run.duration) == (
        "on stop",
        RunOutcome.CANCELLED,
        5.0,
    )
    warnings_logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "Shutdown: the OnShutDown tasks still going 5 s after the second request; cancelled" in (
        warnings_logged
    )
    assert "Shutdown: the lifespan exit still going 5 s after the second request; cancelled" in (
        warnings_logged
    )


async def test_a_hurried_lifespan_exits_in_the_task_that_entered_it(clock: FakeClock) -> None:
    import anyio

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[None]:
        async with anyio.create_task_group():  # must be left in the task that entered it
            yield

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)
    await asyncio.wait_for(await serve_then_ask_twice_to_stop(app), 2)
