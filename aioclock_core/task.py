"""A registered task: the user's function, its trigger, its stable id and its run policy."""

from __future__ import annotations

import inspect
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Literal, Optional, TypeVar, overload

from aioclock_core._processes import check_executor
from aioclock_core._trigger_kinds import LONGEST_SECONDS, LONGEST_TEXT

if TYPE_CHECKING:
    import anyio

    from aioclock_core.triggers import BaseTrigger

__all__ = [
    "Task",
    "TaskSettings",
    "TASK_ID_NAMESPACE",
    "task_id_for",
    "MisfirePolicy",
    "MISFIRE_POLICIES",
]

MisfirePolicy = Literal["latest", "earliest", "all"]
MISFIRE_POLICIES: tuple[str, ...] = ("latest", "earliest", "all")
T = TypeVar("T")

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


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """How a task's runs go: its `Task` attributes of the same names (see there).

    Tasks with equal settings share one instance (frozen for that): most tasks of an app
    have the same ones, so a task holds one reference instead of fourteen. That is 104
    bytes per idle task: tracemalloc 706 -> 602 bytes per registered Every task
    (tests/core/test_memory.py), RSS 1,106 -> 993 bytes per idle task of the benchmark's
    (RSS per idle task, 10,000 tasks)."""

    group: str | None = None
    timeout: float | None = None
    max_concurrent_runs: int = 1
    misfire_grace_time: float | None = None
    misfire: MisfirePolicy = "latest"
    retries: int = 0
    retry_delay: float = 10.0
    retry_backoff: float = 1.0
    retry_on: tuple[type[BaseException], ...] | None = None
    jitter: float = 0.0
    limiter: anyio.CapacityLimiter | None = None
    executor: str | None = None
    injects: bool | None = None
    is_async: bool | None = None


def shared_settings(settings: TaskSettings) -> TaskSettings:
    """The first of the `TaskSettings` equal to `settings` (value and type of every field:
    a timeout of 5.0 reads back as 5.0, never as an earlier task's 5) that is still cached:
    one instance for many tasks."""
    types = tuple(type(getattr(settings, name)) for name in TaskSettings.__slots__)
    return _first_alike(settings, types)


@lru_cache(maxsize=256)
def _first_alike(settings: TaskSettings, types: tuple[type, ...]) -> TaskSettings:
    """Bounded, so the settings (and limiters) of tasks long gone are not kept for ever;
    past 256 distinct ones, sharing starts over."""
    return settings


class _FromSettings(Generic[T]):
    """A read-only `Task` attribute that lives in the task's `TaskSettings`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, task: None, owner: type | None = None) -> _FromSettings[T]: ...

    @overload
    def __get__(self, task: Task, owner: type | None = None) -> T: ...

    def __get__(self, task: Task | None, owner: type | None = None) -> T | _FromSettings[T]:
        if task is None:
            return self
        value: T = getattr(task.settings, self._name)
        return value


@dataclass(eq=False, slots=True, init=False)
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
        misfire: Which of several firings missed at once run: ``latest`` (one run, the
            latest instant; the default), ``earliest`` (one run, the earliest) or ``all``
            (each in turn, each within the grace time).
        retries: Further attempts after a failed or timed-out run (0: none).
        retry_delay: Seconds from a failed attempt's end to the next attempt.
        retry_backoff: Factor the delay grows by with each attempt (1: constant).
        retry_on: Exception types worth a retry (None: any failure; a timeout counts as
            `TaskTimeoutError`, a subclass of `TimeoutError`).
        jitter: Seconds: each scheduled firing starts up to this much later (uniformly at
            random), to spread a herd of tasks; 0 for none.
        start_at: No firing before this instant; for Every, the grid's origin.
        end_at: No firing after this instant.
        limiter: Bounds the worker threads of a sync function (None: the app's limiter).
        executor: Where the body runs: None (async def on the event loop, def in a worker
            thread), "thread" or "process" (a worker process of the app's pool).
        provider: The dependency provider of the app the task belongs to.
        injects: Whether the function declares Depends (None: not inspected yet).
        is_async: Whether it is awaited on the loop (None: not inspected yet).
        settings: group to is_async above, read-only, in one `TaskSettings` that tasks
            with the same ones share.
    """

    func: Callable[..., Any]
    trigger: BaseTrigger[Any]
    name: str
    id: uuid.UUID
    start_at: datetime | None
    end_at: datetime | None
    settings: TaskSettings
    provider: Any = field(repr=False)

    def __init__(
        self,
        func: Callable[..., Any],
        trigger: BaseTrigger[Any],
        name: str,
        group: str | None = None,
        timeout: float | None = None,
        max_concurrent_runs: int = 1,
        misfire_grace_time: float | None = None,
        misfire: MisfirePolicy = "latest",
        retries: int = 0,
        retry_delay: float = 10.0,
        retry_backoff: float = 1.0,
        retry_on: tuple[type[BaseException], ...] | None = None,
        jitter: float = 0.0,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        limiter: anyio.CapacityLimiter | None = None,
        provider: Any = None,
        injects: bool | None = None,
        is_async: bool | None = None,
        executor: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            kind = ValueError if isinstance(name, str) else TypeError
            raise kind(
                f"A task's name must be a non-empty string, got {name!r} "
                f"({type(name).__name__}) for {qualified_name(func)}: write "
                f"name='nightly-report', or leave name out to use module.function"
            )
        where = f"task {name!r}"
        check_trigger(trigger, where)
        check_executor(
            executor,
            func,
            inspect.iscoroutinefunction(func) if is_async is None else is_async,
            where,
        )
        check_seconds(timeout, "timeout", where)
        check_seconds(misfire_grace_time, "misfire_grace_time", where)
        if (
            isinstance(max_concurrent_runs, bool)
            or not isinstance(max_concurrent_runs, int)
            or max_concurrent_runs < 1
        ):
            raise ValueError(
                f"{where}: max_concurrent_runs must be a whole number >= 1, "
                f"got {max_concurrent_runs!r}"
            )
        retry_on = check_run_policy(
            where,
            misfire=misfire,
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_on=retry_on,
            jitter=jitter,
            start_at=start_at,
            end_at=end_at,
        )
        self.func = func
        self.trigger = trigger
        self.name = name
        self.id = task_id_for(name)
        self.start_at = start_at
        self.end_at = end_at
        self.provider = provider
        self.settings = shared_settings(
            TaskSettings(
                group=group,
                timeout=timeout,
                max_concurrent_runs=max_concurrent_runs,
                misfire_grace_time=misfire_grace_time,
                misfire=misfire,
                retries=retries,
                retry_delay=retry_delay,
                retry_backoff=retry_backoff,
                retry_on=retry_on,
                jitter=jitter,
                limiter=limiter,
                executor=executor,
                injects=injects,
                is_async=is_async,
            )
        )

    # The settings, readable as the task's own attributes (as before they were shared).
    group = _FromSettings[Optional[str]]()
    timeout = _FromSettings[Optional[float]]()
    max_concurrent_runs = _FromSettings[int]()
    misfire_grace_time = _FromSettings[Optional[float]]()
    misfire = _FromSettings[MisfirePolicy]()
    retries = _FromSettings[int]()
    retry_delay = _FromSettings[float]()
    retry_backoff = _FromSettings[float]()
    retry_on = _FromSettings[Optional[tuple[type[BaseException], ...]]]()
    jitter = _FromSettings[float]()
    limiter = _FromSettings[Optional["anyio.CapacityLimiter"]]()
    executor = _FromSettings[Optional[str]]()
    injects = _FromSettings[Optional[bool]]()
    is_async = _FromSettings[Optional[bool]]()

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


def check_trigger(trigger: Any, where: str) -> None:
    """Refuse what is not a trigger the scheduler can drive, saying what to pass."""
    # Here, not at the top: the trigger is built, so pydantic is loaded already; at the top
    # this import would load it with `import aioclock_core`.
    from aioclock_core._trigger_base import BaseTrigger

    if not isinstance(trigger, BaseTrigger):
        raise TypeError(
            f"{where}: trigger must be a trigger such as Every(seconds=10), "
            f"got {trigger!r} ({type(trigger).__name__})"
        )
    if type(trigger).next_fire_time is BaseTrigger.next_fire_time and (
        type(trigger).trigger_next is BaseTrigger.trigger_next
    ):
        raise TypeError(
            f"{where}: the custom trigger {type(trigger).__name__} implements neither "
            "next_fire_time(after, anchor) nor aioclock's trigger_next(); implement "
            "next_fire_time (see docs/triggers.md, custom triggers)"
        )


def check_run_policy(
    where: str,
    *,
    misfire: str = "latest",
    retries: int = 0,
    retry_delay: float = 10.0,
    retry_backoff: float = 1.0,
    retry_on: Any = None,
    jitter: float = 0.0,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> tuple[type[BaseException], ...] | None:
    """Refuse retry, jitter, window and misfire settings that cannot work, naming the
    value; returns `retry_on` as a tuple (a single class is accepted too)."""
    if misfire not in MISFIRE_POLICIES:
        raise ValueError(
            f"{where}: misfire must be one of {', '.join(map(repr, MISFIRE_POLICIES))}, "
            f"got {misfire!r}"
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"{where}: retries must be a whole number >= 0, got {retries!r}")
    check_seconds(retry_delay, "retry_delay", where, allow_zero=True)
    if (
        isinstance(retry_backoff, bool)
        or not isinstance(retry_backoff, (int, float))
        or not math.isfinite(retry_backoff)
        or retry_backoff < 1
    ):
        raise ValueError(f"{where}: retry_backoff must be a number >= 1, got {retry_backoff!r}")
    if retry_on is not None:
        kinds = (retry_on,) if isinstance(retry_on, type) else retry_on
        if (
            not isinstance(kinds, tuple)
            or not kinds
            or not all(isinstance(k, type) and issubclass(k, BaseException) for k in kinds)
        ):
            raise ValueError(
                f"{where}: retry_on takes exception classes such as (ConnectionError,), "
                f"got {retry_on!r}"
            )
        retry_on = kinds
    check_seconds(jitter, "jitter", where, allow_zero=True)
    for name, value in (("start_at", start_at), ("end_at", end_at)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValueError(
                f"{where}: {name} must be an aware datetime (with tzinfo, e.g. "
                f"datetime(2026, 1, 1, tzinfo=ZoneInfo('Europe/Berlin'))), got {value!r}"
            )
    if start_at is not None and end_at is not None and end_at < start_at:
        raise ValueError(
            f"{where}: end_at ({end_at.isoformat()}) is before start_at "
            f"({start_at.isoformat()}): the task could never fire"
        )
    return retry_on


def check_seconds(
    value: float | None, parameter: str, where: str, *, allow_zero: bool = False
) -> None:
    """Refuse a duration that is not a positive, finite number of seconds (None passes)."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        least = ">= 0" if allow_zero else "a positive number of"
        raise ValueError(f"{where}: {parameter} must be {least} seconds or None, got {value!r}")
    if value > LONGEST_SECONDS:  # later date arithmetic would overflow (year 9999)
        raise ValueError(
            f"{where}: {parameter} must be at most {LONGEST_TEXT}, got {value!r}; "
            "give a shorter one, or None for no limit"
        )
