"""Group: a set of tasks with a shared thread limiter and default timeout, included in an app."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aioclock_core._di import check_parameters
from aioclock_core._processes import check_executor_name
from aioclock_core.task import MisfirePolicy, Task, check_run_policy, check_seconds, qualified_name

if TYPE_CHECKING:
    import anyio

    from aioclock_core.triggers import BaseTrigger

__all__ = ["Group"]

F = TypeVar("F", bound=Callable[..., Any])


class Group:
    """Tasks registered together, then added to an app with `AioClock.include_group`.

    Args:
        limiter: Bounds the worker threads used by this group's sync tasks.
        timeout: Default timeout in seconds for the group's tasks; a task's own wins.
        name: Shown as the tasks' group in the console and in metadata.
        retries, retry_delay, retry_backoff, retry_on, jitter: Defaults for the group's
            tasks (see `task`); a task's own wins.
        executor: Default executor of the group's tasks ("thread" or "process"; see
            `Group.task`); a task's own wins.
    """

    def __init__(
        self,
        *,
        limiter: anyio.CapacityLimiter | None = None,
        timeout: float | None = None,
        name: str | None = None,
        retries: int = 0,
        retry_delay: float = 10.0,
        retry_backoff: float = 1.0,
        retry_on: tuple[type[BaseException], ...] | None = None,
        jitter: float = 0.0,
        executor: str | None = None,
    ) -> None:
        self._tasks: list[Task] = []
        self._on_add: list[Callable[[Task], None]] = []
        self._limiter = limiter
        self._timeout = timeout
        self.name = name
        where = f"group {name or '(unnamed)'!r}"
        check_seconds(timeout, "timeout", where)
        self._defaults: dict[str, Any] = {
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_backoff": retry_backoff,
            "retry_on": retry_on,
            "jitter": jitter,
        }
        # The same checks a task gets, at the group's construction (not at its first task).
        self._defaults["retry_on"] = check_run_policy(where, **self._defaults)
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
        misfire: MisfirePolicy = "latest",
        retries: int | None = None,
        retry_delay: float | None = None,
        retry_backoff: float | None = None,
        retry_on: tuple[type[BaseException], ...] | type[BaseException] | None = None,
        jitter: float | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        executor: str | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function to run when `trigger` fires.

        Async functions run on the event loop; sync functions run in a worker thread.
        The decorated function is returned unchanged and stays callable directly.
        Registering while the app serves plans the task at once.

        Args:
            trigger: When to run.
            timeout: Seconds a run may last; it is then cancelled and reported timed out.
            name: Unique task name (default: `module.qualname`); the task id derives from it.
            max_concurrent_runs: How many runs may overlap (default 1: a firing that finds
                a run still going is skipped and reported).
            misfire_grace_time: How late, in seconds, a firing may start; later ones are
                reported missed (default None: no limit).
            misfire: Which firings run when several were missed at once: ``latest`` (one
                run, the latest; the default), ``earliest`` (one run, the earliest) or
                ``all`` (each in turn, within the grace time).
            retries: Further attempts after a failed or timed-out run (default 0, or the
                group's).
            retry_delay: Seconds before the first retry (default 10).
            retry_backoff: Factor each further delay grows by (default 1).
            retry_on: Exception classes worth a retry (default: any failure).
            jitter: Start each scheduled run up to this many seconds late, at random.
            start_at: No firing before this aware instant (an Every's grid starts there).
            end_at: No firing after this aware instant.
            executor: "process" runs the body in a worker process of the app's pool (for
                CPU-heavy work: it cannot slow the scheduler down); the function must be
                module-level, its dependencies' values and its result picklable (see
                docs/executors.md). "thread" is the default of a plain def. Default: the
                group's.
        """
        defaults = self._defaults

        def register(func: F) -> F:
            if not callable(func):
                raise TypeError(f"@task(...) decorates a function, got {func!r}")
            task_name = name if name is not None else qualified_name(func)
            _refuse_generator(func, task_name)
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
                misfire=misfire,
                retries=defaults["retries"] if retries is None else retries,
                retry_delay=defaults["retry_delay"] if retry_delay is None else retry_delay,
                retry_backoff=defaults["retry_backoff"] if retry_backoff is None else retry_backoff,
                retry_on=defaults["retry_on"] if retry_on is None else retry_on,  # type: ignore[arg-type]
                jitter=defaults["jitter"] if jitter is None else jitter,
                start_at=start_at,
                end_at=end_at,
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

    def _remove(self, task: Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)


def is_async_function(func: Callable[..., Any]) -> bool:
    """Whether calling `func` returns an awaitable we should await on the loop."""
    while hasattr(func, "__wrapped__") and not inspect.iscoroutinefunction(func):
        func = func.__wrapped__
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


def _refuse_generator(func: Callable[..., Any], task_name: str) -> None:
    """A generator function's body never runs when it is called: refuse it as a task."""
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        kind = "an async generator" if inspect.isasyncgenfunction(func) else "a generator"
        raise TypeError(
            f"task {task_name!r}: {qualified_name(func)} is {kind} function (it uses yield), "
            "so calling it would not run its body: write a function that returns "
            "instead of yielding"
        )
