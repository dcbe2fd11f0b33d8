"""Group: a set of tasks with a shared thread limiter and default timeout, included in an app."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aioclock_core._di import check_parameters
from aioclock_core._processes import check_executor_name
from aioclock_core.task import Task, check_seconds, qualified_name
from aioclock_core.triggers import BaseTrigger

if TYPE_CHECKING:
    import anyio

__all__ = ["Group"]

F = TypeVar("F", bound=Callable[..., Any])


class Group:
    """Tasks registered together, then added to an app with `AioClock.include_group`.

    Args:
        limiter: Bounds the worker threads used by this group's sync tasks.
        timeout: Default timeout in seconds for the group's tasks; a task's own wins.
        name: Shown as the tasks' group in the console and in metadata.
        executor: Default executor of the group's tasks ("thread" or "process"; see
            `Group.task`); a task's own wins.
    """

    def __init__(
        self,
        *,
        limiter: anyio.CapacityLimiter | None = None,
        timeout: float | None = None,
        name: str | None = None,
        executor: str | None = None,
    ) -> None:
        self._tasks: list[Task] = []
        self._on_add: list[Callable[[Task], None]] = []
        self._limiter = limiter
        self._timeout = timeout
        self.name = name
        where = f"group {name or '(unnamed)'!r}"
        check_seconds(timeout, "timeout", where)
        check_executor_name(executor, where)
        self._executor = executor

    @property
    def tasks(self) -> list[Task]:
        """The tasks registered on this group, in order."""
        return list(self._tasks)

    def task(
        self,
        *,
        trigger: BaseTrigger[Any],
        timeout: float | None = None,
        name: str | None = None,
        max_concurrent_runs: int = 1,
        misfire_grace_time: float | None = None,
        executor: str | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function to run when `trigger` fires.

        Async functions run on the event loop; sync functions run in a worker thread.
        The decorated function is returned unchanged and stays callable directly.

        Args:
            trigger: When to run.
            timeout: Seconds a run may last; it is then cancelled and reported timed out.
            name: Unique task name (default: `module.qualname`); the task id derives from it.
            max_concurrent_runs: How many runs may overlap (default 1: a firing that finds
                a run still going is skipped and reported).
            misfire_grace_time: How late, in seconds, a firing may start; later ones are
                reported missed (default None: late firings coalesce into one run).
            executor: "process" runs the body in a worker process of the app's pool (for
                CPU-heavy work: it cannot slow the scheduler down); the function must be
                module-level, its dependencies' values and its result picklable (see
                docs/executors.md). "thread" is the default of a plain def. Default: the
                group's.
        """

        def register(func: F) -> F:
            if not callable(func):
                raise TypeError(f"@task(...) decorates a function, got {func!r}")
            task_name = name if name is not None else qualified_name(func)
            injects = check_parameters(func, f"task {task_name!r}")
            is_async = is_async_function(func)
            chosen = executor
            if chosen is None and not (self._executor == "thread" and is_async):
                chosen = self._executor  # a group's "thread" is for its plain defs
            task = Task(
                func=func,
                trigger=trigger,
                name=task_name,
                group=self.name,
                timeout=timeout if timeout is not None else self._timeout,
                max_concurrent_runs=max_concurrent_runs,
                misfire_grace_time=misfire_grace_time,
                limiter=self._limiter,
                injects=injects,
                is_async=is_async,
                executor=chosen,
            )
            self._add(task)
            return func

        return register

    def _add(self, task: Task) -> None:
        for check in self._on_add:
            check(task)
        self._tasks.append(task)


def is_async_function(func: Callable[..., Any]) -> bool:
    """Whether calling `func` returns an awaitable we should await on the loop."""
    while hasattr(func, "__wrapped__") and not inspect.iscoroutinefunction(func):
        func = func.__wrapped__
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )
