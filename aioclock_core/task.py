"""A registered task: the user's function, its trigger, its stable id and its run policy."""

from __future__ import annotations

import inspect
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aioclock_core._processes import check_executor
from aioclock_core.triggers import BaseTrigger

if TYPE_CHECKING:
    import anyio

__all__ = ["Task", "TASK_ID_NAMESPACE", "task_id_for"]

TASK_ID_NAMESPACE = uuid.UUID("5a0b9c1e-6f1d-4c59-9a6e-6c0c1c0a7d21")
"""Namespace of the UUID5 task ids: the same name gives the same id in every process."""


def task_id_for(name: str) -> uuid.UUID:
    """The stable id of a task called `name`."""
    return uuid.uuid5(TASK_ID_NAMESPACE, name)


def qualified_name(func: Callable[..., Any]) -> str:
    """`module.qualname` of a function: the default task name."""
    module = getattr(func, "__module__", None) or "__main__"
    qualname = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{qualname}"


@dataclass(eq=False, slots=True)
class Task:
    """A task as the scheduler sees it.

    Attributes:
        func: The user's function (sync or async), undecorated.
        trigger: When it fires.
        id: Stable id: UUID5 of `name`.
        name: Unique name in the app: `module.qualname` of the function unless given.
        group: Name of the group it came from, if any.
        timeout: Seconds a run may last before it is cancelled; None for no limit.
        max_concurrent_runs: Runs of this task that may overlap; a firing beyond that is skipped.
        misfire_grace_time: Seconds a firing may be late and still run; None for no limit.
        limiter: Bounds the worker threads of a sync function (None: the app's limiter).
        executor: Where the body runs: None (async def on the event loop, def in a worker
            thread), "thread" or "process" (a worker process of the app's pool).
        provider: The dependency provider of the app the task belongs to.
        injects: Whether the function declares Depends (None: not inspected yet).
        is_async: Whether it is awaited on the loop (None: not inspected yet).
    """

    func: Callable[..., Any]
    trigger: BaseTrigger[Any]
    name: str
    group: str | None = None
    timeout: float | None = None
    max_concurrent_runs: int = 1
    misfire_grace_time: float | None = None
    limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)
    provider: Any = field(default=None, repr=False)
    injects: bool | None = field(default=None, repr=False)
    is_async: bool | None = field(default=None, repr=False)
    executor: str | None = None
    id: uuid.UUID = field(init=False)

    def __post_init__(self) -> None:
        self.id = task_id_for(self.name)
        where = f"task {self.name!r}"
        if not isinstance(self.trigger, BaseTrigger):
            raise TypeError(
                f"{where}: trigger must be a trigger such as Every(seconds=10), "
                f"got {self.trigger!r} ({type(self.trigger).__name__})"
            )
        if type(self.trigger).next_fire_time is BaseTrigger.next_fire_time and (
            type(self.trigger).trigger_next is BaseTrigger.trigger_next
        ):
            raise TypeError(
                f"{where}: the custom trigger {type(self.trigger).__name__} implements neither "
                "next_fire_time(after, anchor) nor aioclock's trigger_next(); implement "
                "next_fire_time (see docs/triggers.md, custom triggers)"
            )
        is_async = self.is_async
        if is_async is None:
            is_async = inspect.iscoroutinefunction(self.func)
        check_executor(self.executor, self.func, is_async, where)
        check_seconds(self.timeout, "timeout", where)
        check_seconds(self.misfire_grace_time, "misfire_grace_time", where)
        if (
            isinstance(self.max_concurrent_runs, bool)
            or not isinstance(self.max_concurrent_runs, int)
            or self.max_concurrent_runs < 1
        ):
            raise ValueError(
                f"{where}: max_concurrent_runs must be a whole number >= 1, "
                f"got {self.max_concurrent_runs!r}"
            )

    @property
    def task_name(self) -> str:
        """The function's own name (what aioclock 0.3 called the task name)."""
        return getattr(self.func, "__name__", self.name)

    async def run(self) -> None:
        """Kept for aioclock compatibility: run this task by hand, as its trigger says,
        until the trigger is exhausted (dependencies injected, timeout applied, failures
        logged). Outside the app's scheduler: no events, no history."""
        from aioclock_core.api import _run_by_hand  # api imports app, which imports us

        await _run_by_hand(self)


def check_seconds(value: float | None, parameter: str, where: str) -> None:
    """Refuse a duration that is not a positive, finite number of seconds (None passes)."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"{where}: {parameter} must be a positive number of seconds or None, got {value!r}"
        )
