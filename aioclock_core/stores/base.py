"""The store interface: run history and task state behind one contract (memory, SQLite, Redis)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from aioclock_core.events import RunKind, RunOutcome, SkipReason
from aioclock_core.exceptions import BaseAioClockException

__all__ = [
    "Store",
    "RunRecord",
    "SkipRecord",
    "TaskRecord",
    "Retention",
    "StoreError",
    "RunHooks",
]


class StoreError(BaseAioClockException):
    """A store cannot be used (corrupt or foreign file, unreachable server); says what to do."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as stored. `outcome` is None while the run is in progress."""

    run_id: UUID
    task_id: UUID
    task_name: str
    kind: RunKind
    scheduled_for: datetime
    started_at: datetime
    finished_at: datetime | None = None
    outcome: RunOutcome | None = None
    duration: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    replica: str | None = None


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """Firings that did not run (`count` of them, the latest at `scheduled_for`)."""

    task_id: UUID
    task_name: str
    scheduled_for: datetime
    reason: SkipReason
    count: int
    at: datetime


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task's persisted state: paused flag and the instant of its last firing."""

    task_id: UUID
    task_name: str
    paused: bool = False
    last_fire_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history a store keeps per task: the newest `max_runs` runs (and as many
    skip records), none older than `max_age`. Defaults: 1,000 runs, 30 days."""

    max_runs: int = 1000
    max_age: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_runs, bool)
            or not isinstance(self.max_runs, int)
            or (self.max_runs < 1)
        ):
            raise ValueError(
                f"Retention.max_runs must be a whole number >= 1, got {self.max_runs!r}"
            )
        if not isinstance(self.max_age, timedelta) or self.max_age <= timedelta(0):
            raise ValueError(
                f"Retention.max_age must be a positive timedelta, got {self.max_age!r}"
            )


class RunHooks(NamedTuple):
    """A store's fast path for the scheduler's runs (see `Store.run_recorders`)."""

    started: Callable[[Any], None] | None
    """Called on the loop when a run begins (None: the store does not track runs in
    progress)."""
    finished: Callable[[Any], None]
    """Called on the loop when a run is over."""
    idle: Callable[[], None] | None = None
    """Called on the loop when the last run in flight ends: the moment for a writer
    thread to work without competing with firings for the interpreter."""
    busy: Callable[[], None] | None = None
    """Called on the loop when a run starts while none was in flight."""


class Store(ABC):
    """Persists run history and task state for one app.

    The scheduler calls the `record_*` and `save_task` methods on its event loop for
    every run, skip and firing: they must return at once (queue the write; a writer
    thread or task does it). The async methods are called rarely (start-up, console,
    CLI). `open` is called once, before any other method, with the app's name.
    """

    retention: Retention = Retention()

    def run_recorders(self, replica: str | None) -> RunHooks | None:
        """Optional fast path. A store that returns hooks gets the scheduler's own run
        objects instead of `record_run_started`/`record_run_finished` calls, so no event
        or record is built per firing. The hooks run on the loop and must return at once;
        the objects they get are read-only, with `task_id`, `task_name`, `run_id`, `kind`,
        `scheduled_for`, `started_at`; once over also `duration`, `outcome`,
        `error_type`, `error_message`, `traceback` and `ended` (True). `replica` is the
        app's replica name (None without a coordinator). The default: no fast path."""
        return None

    @abstractmethod
    async def open(self, app_name: str) -> None:
        """Connect or create; raise StoreError with a fix if the store is unusable."""

    @abstractmethod
    async def close(self) -> None:
        """Write what is queued and release resources."""

    @abstractmethod
    def record_run_started(self, record: RunRecord) -> None:
        """Queue a run that began (outcome None)."""

    @abstractmethod
    def record_run_finished(self, record: RunRecord) -> None:
        """Queue a run's end (replaces the started record of the same run id)."""

    @abstractmethod
    def record_skip(self, record: SkipRecord) -> None:
        """Queue firings that did not run."""

    @abstractmethod
    def save_task(self, record: TaskRecord) -> None:
        """Queue a task's new state (the latest write per task wins)."""

    @abstractmethod
    async def flush(self) -> None:
        """Return once every queued write is stored."""

    @abstractmethod
    async def load_tasks(self) -> dict[UUID, TaskRecord]:
        """The persisted state of every task that has one."""

    @abstractmethod
    async def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        """Close every run left in progress by a dead process as interrupted; return them."""

    @abstractmethod
    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        """Finished and in-progress runs, newest first (of one task, or of all)."""

    @abstractmethod
    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        """Skip records, newest first."""
