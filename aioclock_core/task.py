"""A registered task: the user's function, its trigger, its stable id and its run policy."""

from __future__ import annotations

import inspect
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from aioclock_core._processes import check_executor
from aioclock_core._trigger_kinds import LONGEST_SECONDS, LONGEST_TEXT

if TYPE_CHECKING:
    import anyio

    from aioclock_core.triggers import BaseTrigger

__all__ = ["Task", "TASK_ID_NAMESPACE", "task_id_for", "MisfirePolicy", "MISFIRE_POLICIES"]

MisfirePolicy = Literal["latest", "earliest", "all"]
MISFIRE_POLICIES: tuple[str, ...] = ("latest", "earliest", "all")

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
    """

    func: Callable[..., Any]
    trigger: BaseTrigger[Any]
    name: str
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
    start_at: datetime | None = None
    end_at: datetime | None = None
    limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)
    provider: Any = field(default=None, repr=False)
    injects: bool | None = field(default=None, repr=False)
    is_async: bool | None = field(default=None, repr=False)
    executor: str | None = None
    id: uuid.UUID = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            kind = ValueError if isinstance(self.name, str) else TypeError
            raise kind(
                f"A task's name must be a non-empty string, got {self.name!r} "
                f"({type(self.name).__name__}) for {qualified_name(self.func)}: write "
                f"name='nightly-report', or leave name out to use module.function"
            )
        self.id = task_id_for(self.name)
        where = f"task {self.name!r}"
        check_trigger(self.trigger, where)
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
        self.retry_on = check_run_policy(
            where,
            misfire=self.misfire,
            retries=self.retries,
            retry_delay=self.retry_delay,
            retry_backoff=self.retry_backoff,
            retry_on=self.retry_on,
            jitter=self.jitter,
            start_at=self.start_at,
            end_at=self.end_at,
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
