"""app.run_in_thread(): an app served in a background thread, steered from sync code."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from aioclock_core import AioClock, Every
from aioclock_core.state import TaskState

WAIT = 5.0


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def test_run_in_thread_starts_the_app_gives_control_and_stops_it_on_exit() -> None:
    lifespan_steps: list[str] = []
    ran_on: list[str] = []

    @contextmanager
    def lifespan(_: AioClock) -> Iterator[None]:
        lifespan_steps.append("enter")
        yield
        lifespan_steps.append("exit")

    app = AioClock(lifespan=lifespan, loop_block_threshold=None)

    @app.task(trigger=Every(hours=1), name="report")
    async def report() -> str:
        ran_on.append(threading.current_thread().name)
        return "done"

    with app.run_in_thread() as control:
        assert app.is_running and lifespan_steps == ["enter"]
        assert control.run_now("report").result(timeout=WAIT) is not None
        until(lambda: control.snapshot("report").run_count == 1, "the manual run ended")
        assert control.pause("report").result(timeout=WAIT) is True
        assert control.snapshot("report").state is TaskState.PAUSED
        last = control.snapshots()[0].last_run
        assert last is not None and last.result == "'done'"

    assert lifespan_steps == ["enter", "exit"]
    assert not app.is_running
    assert ran_on == ["aioclock-scheduler"]
    assert not any(t.name == "aioclock-scheduler" for t in threading.enumerate())


def test_an_app_that_fails_to_start_raises_when_the_block_is_entered() -> None:
    @contextmanager
    def lifespan(_: AioClock) -> Iterator[None]:
        raise ConnectionError("database unreachable")
        yield

    app = AioClock(lifespan=lifespan, loop_block_threshold=None)
    with pytest.raises(RuntimeError, match="failed to start: ConnectionError"):
        with app.run_in_thread():
            pytest.fail("the block must not run")


def test_the_app_stops_gracefully_when_the_block_raises() -> None:
    stopped: list[bool] = []

    @contextmanager
    def lifespan(_: AioClock) -> Iterator[None]:
        yield
        stopped.append(True)

    app = AioClock(lifespan=lifespan, loop_block_threshold=None)
    with pytest.raises(KeyError), app.run_in_thread():
        raise KeyError("the caller's own error")
    assert stopped == [True]
