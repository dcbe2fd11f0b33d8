"""External API of an app (aioclock 0.3 names): task metadata and running a task now."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from aioclock_core._clock import SYSTEM_CLOCK, Clock
from aioclock_core._di import bind_dependencies, new_provider
from aioclock_core._scheduler import has_pure_timeline
from aioclock_core._timeline import Timeline
from aioclock_core.app import AioClock, app_of, find_task_of
from aioclock_core.exceptions import TaskIdNotFound, TaskTimeoutError
from aioclock_core.group import is_async_function
from aioclock_core.runs import RunRecord
from aioclock_core.state import TaskState
from aioclock_core.task import Task
from aioclock_core.triggers import TriggerT

if TYPE_CHECKING:
    from fast_depends import Provider

__all__ = [
    "TaskMetadata",
    "run_specific_task",
    "run_with_injected_deps",
    "get_metadata_of_all_tasks",
]

T = TypeVar("T")
logger = logging.getLogger("aioclock")


class TaskMetadata(BaseModel):
    """What is known about one task (aioclock's three fields, then ours).

    Attributes:
        id: Stable task id (UUID5 of the task's name).
        trigger: The trigger.
        task_name: The function's name.
        name: The unique task name (`module.qualname` unless given).
        group: The group's name, if any.
        state: idle, running, paused or finished (idle when the app is not serving).
        next_fire_time: The next firing (UTC), if planned.
        last_run: The last finished run, if any.
        run_count: Finished runs since start.
        failure_count: Runs that failed or timed out.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: UUID
    trigger: Union[TriggerT, Any]
    task_name: str
    name: str = ""
    group: str | None = None
    state: TaskState = TaskState.IDLE
    next_fire_time: datetime | None = None
    last_run: RunRecord | None = None
    run_count: int = 0
    failure_count: int = 0


def _find_task(task_id: UUID | str, app: AioClock) -> Task:
    for task in app.tasks:
        if task.id == task_id or str(task.id) == str(task_id) or task.name == task_id:
            return task
    raise TaskIdNotFound(f"No task with id or name {task_id!r} in this app")


async def run_specific_task(task_id: UUID | str, app: AioClock) -> Any:
    """Run one task now, with its dependencies injected, and return its result.

    While the app is serving on this loop, the run goes through the scheduler like any
    manual run (timeout, overlap rule, events); otherwise the function is called
    directly. Raises TaskIdNotFound for an unknown id, TaskTimeoutError on timeout, and
    whatever the task raised.
    """
    task = _find_task(task_id, app)
    if app.is_running and app._loop is asyncio.get_running_loop():
        scheduler = app._require_scheduler()
        run = scheduler.run_now(scheduler.find(task.id))
        if run is None:
            raise RuntimeError(
                f"Task {task.name!r} is already running max_concurrent_runs="
                f"{task.max_concurrent_runs} run(s); try again when it has finished"
            )
        assert run.task is not None
        await asyncio.wait([run.task])
        if run.timed_out:
            raise _timed_out(task)
        if run.error is not None:
            raise run.error
        return run.result
    return await _within_timeout(task, app.clock, _injected(task, app.dependencies))


def _timed_out(task: Task) -> TaskTimeoutError:
    return TaskTimeoutError(f"Task {task.name!r} timed out after {task.timeout:g} s")


async def _within_timeout(task: Task, clock: Clock, call: Callable[[], Awaitable[T]]) -> T:
    """Await `call()`; past the task's timeout on `clock`, cancel it: TaskTimeoutError."""
    if task.timeout is None:
        return await call()
    work = asyncio.ensure_future(call())
    expired = False

    def expire() -> None:
        nonlocal expired
        if not work.done():
            expired = True
            work.cancel("timeout")

    timer = clock.call_at(clock.now() + timedelta(seconds=task.timeout), expire)
    try:
        return await work
    except asyncio.CancelledError:
        if not expired:
            raise
        raise _timed_out(task) from None
    finally:
        timer.cancel()


def _injected(task: Task, provider: Provider) -> Callable[[], Awaitable[Any]]:
    call = bind_dependencies(task.func, provider)
    if is_async_function(task.func):
        return call

    async def in_thread() -> Any:
        return await asyncio.to_thread(call)

    return in_thread


async def run_with_injected_deps(func: Callable[..., Any]) -> Any:
    """Call a function decorated with `@app.task` with its dependencies injected.

    Sync functions run in a worker thread. Raises TypeError for an undecorated function
    that needs dependencies the caller cannot know about.
    """
    task = find_task_of(func)
    provider = task.provider() if task is not None and task.provider is not None else None
    call = bind_dependencies(func, provider if provider is not None else new_provider())
    if is_async_function(func):
        return await call()
    return await asyncio.to_thread(call)


async def get_metadata_of_all_tasks(app: AioClock) -> list[TaskMetadata]:
    """Metadata of every task, with live state when the app is serving."""
    snapshots = {s.task_id: s for s in app.snapshots()} if app.is_running else {}
    result = []
    for task in app.tasks:
        snapshot = snapshots.get(task.id)
        result.append(
            TaskMetadata(
                id=task.id,
                trigger=task.trigger,
                task_name=task.task_name,
                name=task.name,
                group=task.group,
                state=snapshot.state if snapshot else TaskState.IDLE,
                next_fire_time=snapshot.next_fire_time if snapshot else None,
                last_run=snapshot.last_run if snapshot else None,
                run_count=snapshot.run_count if snapshot else 0,
                failure_count=snapshot.failure_count if snapshot else 0,
            )
        )
    return result


async def _run_by_hand(task: Task) -> None:
    """`Task.run()`: fire `task` as its trigger says, on its app's clock, until the trigger
    is exhausted, as aioclock 0.3 ran a task. Each run has its dependencies injected and
    its timeout applied; a failure is logged and the schedule goes on. It runs beside the
    scheduler (no events, no history), for tests written against aioclock."""
    app = app_of(task)
    clock = app.clock if app is not None else SYSTEM_CLOCK
    call = _injected(task, app.dependencies if app is not None else new_provider())

    async def run_and_log() -> None:
        try:
            await _within_timeout(task, clock, call)
        except Exception as exc:
            logger.error("Task %s failed: %r", task.name, exc, exc_info=exc)

    trigger = task.trigger
    if not has_pure_timeline(trigger):  # an aioclock-style trigger waits in trigger_next()
        while trigger.should_trigger():
            await trigger.trigger_next()
            await run_and_log()
        return
    timeline = Timeline(trigger, clock.now())
    while timeline.pending is not None:
        await clock.sleep_until(timeline.pending)
        timeline.consume_through(clock.now())
        await run_and_log()
        if timeline.pending is None and timeline.can_restart:
            timeline.restart(clock.now())
