"""executor="process": bodies run in a spawned worker process, dependencies resolved here,
results and log records come back, a timeout kills the worker, nothing is left behind."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
from typing import Any

import pytest

from aioclock_core import AioClock, Group, Once
from aioclock_core.events import RunFinished, RunOutcome
from aioclock_core.runs import RunRecord
from aioclock_core.testing import EventRecorder
from tests.apps import process_bodies
from tests.bounds import time_limit


def process_app(**options: Any) -> AioClock:
    """A real-clock app (a worker process cannot see a fake clock) with a pool of one."""
    return AioClock(loop_block_threshold=None, process_pool_size=1, **options)


async def serve_runs(app: AioClock) -> list[RunRecord]:
    recorder = EventRecorder(app)
    await asyncio.wait_for(app.serve(), 20)
    assert multiprocessing.active_children() == [], "serve() left worker processes behind"
    return [event.run for event in recorder.of_type(RunFinished)]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@time_limit(30)
async def test_a_process_task_returns_its_value_from_another_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = process_app()
    app.task(trigger=Once(), executor="process", name="square")(process_bodies.square)
    app.task(trigger=Once(), executor="process", name="async")(process_bodies.async_body)

    with caplog.at_level(logging.INFO):
        runs = {run.task_name: run for run in await serve_runs(app)}

    assert (runs["square"].outcome, runs["square"].result) == (RunOutcome.SUCCEEDED, "49")
    assert runs["async"].result is not None and str(os.getpid()) not in runs["async"].result
    lines = [line.message for line in runs["square"].logs]
    assert any(re.fullmatch(r"squaring 7 in process \d+", line) for line in lines), lines
    assert "printed by the body" in lines
    assert f"in process {os.getpid()}" not in " ".join(lines)
    forwarded = [r for r in caplog.records if r.name == "fixture.process"]
    assert forwarded and forwarded[0].aioclock_task_name == "square"  # type: ignore[attr-defined]


@time_limit(30)
async def test_a_timed_out_process_task_has_its_worker_killed() -> None:
    app = process_app()
    app.task(trigger=Once(), executor="process", timeout=1.5, name="hangs")(
        process_bodies.report_pid_then_hang
    )

    (run,) = await serve_runs(app)

    assert run.outcome is RunOutcome.TIMED_OUT
    assert "worker process was terminated" in (run.error_message or "")
    (line,) = [line.message for line in run.logs if line.message.startswith("pid=")]
    assert gone(int(line.removeprefix("pid=")))


@time_limit(30)
async def test_an_error_in_a_process_task_fails_the_run_with_the_workers_traceback() -> None:
    app = process_app()
    app.task(trigger=Once(), executor="process", name="fails")(process_bodies.fails)

    (run,) = await serve_runs(app)

    assert (run.outcome, run.error_type, run.error_message) == (
        RunOutcome.FAILED,
        "ValueError",
        "bad row 7",
    )
    assert 'process_bodies.py", line' in (run.traceback or "")
    assert "in fails" in (run.traceback or "")


@time_limit(30)
async def test_dependencies_are_resolved_here_and_their_values_sent_to_the_worker() -> None:
    app = process_app()
    app.task(trigger=Once(), executor="process", name="deps")(process_bodies.with_settings)

    (run,) = await serve_runs(app)

    assert (run.outcome, run.result) == (RunOutcome.SUCCEEDED, repr("got {'rows': 3}"))


@time_limit(30)
async def test_an_unpicklable_dependency_fails_the_run_naming_it_and_the_app_goes_on() -> None:
    app = process_app()
    app.task(trigger=Once(), executor="process", name="locked")(process_bodies.with_lock)
    app.task(trigger=Once(), executor="process", name="fine")(process_bodies.pid)

    runs = {run.task_name: run for run in await serve_runs(app)}

    locked = runs["locked"]
    assert (locked.outcome, locked.error_type) == (RunOutcome.FAILED, "TypeError")
    assert "dependency 'value' gave a lock, which cannot be pickled" in (locked.error_message or "")
    assert runs["fine"].outcome is RunOutcome.SUCCEEDED


def test_a_lambda_or_a_closure_cannot_be_a_process_task() -> None:
    app = AioClock()
    with pytest.raises(
        TypeError, match=r"executor='process' needs a module-level function.*lambda"
    ):
        app.task(trigger=Once(), executor="process", name="l")(lambda: None)

    def closure() -> None: ...

    with pytest.raises(TypeError, match=r"closure\(\) is defined inside test_a_lambda"):
        app.task(trigger=Once(), executor="process")(closure)


def test_an_unknown_executor_is_refused_naming_the_choices() -> None:
    app = AioClock()
    with pytest.raises(ValueError, match=r"executor must be 'thread' or 'process'.*got 'gpu'"):
        app.task(trigger=Once(), executor="gpu")(process_bodies.pid)
    with pytest.raises(ValueError, match="got 'gpu'"):
        Group(executor="gpu")


def test_an_async_function_cannot_ask_for_a_thread() -> None:
    with pytest.raises(TypeError, match=r"async_body\(\) is async def and runs on the event loop"):
        AioClock().task(trigger=Once(), executor="thread")(process_bodies.async_body)


def test_a_groups_executor_is_its_tasks_default_and_a_tasks_own_wins() -> None:
    group = Group(executor="process")
    group.task(trigger=Once(), name="a")(process_bodies.pid)
    group.task(trigger=Once(), name="b", executor="thread")(process_bodies.square)
    assert [task.executor for task in group.tasks] == ["process", "thread"]


def test_a_pool_size_must_be_a_whole_number() -> None:
    with pytest.raises(ValueError, match="process_pool_size must be a whole number >= 1"):
        AioClock(process_pool_size=0)
