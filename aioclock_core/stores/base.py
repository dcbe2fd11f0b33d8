"""The store interface: run history and task state behind one contract (memory, SQLite, Redis)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from aioclock_core.events import SkipReason
from aioclock_core.exceptions import BaseAioClockException
from aioclock_core.runs import RunRecord, RunSink

__all__ = [
    "Store",
    "RunRecord",
    "SkipRecord",
    "TaskRecord",
    "Retention",
    "StoreError",
]


class StoreError(BaseAioClockException):
    """A store cannot be used (corrupt or foreign file, unreachable server); says what to do."""


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
    """How much history a store keeps: per task the newest `max_runs` runs (and as many
    skip records), none older than `max_age`; and (memory only) at most `max_total`
    runs in all, the oldest going first. Defaults: 1,000 runs per task, 30 days,
    no total (SQLite, Redis); `MemoryStore` uses `Retention.in_memory()`."""

    max_runs: int = 1000
    max_age: timedelta = timedelta(days=30)
    max_total: int | None = None

    @classmethod
    def in_memory(cls) -> Retention:
        """The memory store's default: 100 runs per task, 20,000 in all, so that an app's
        memory levels off however many tasks it has."""
        return cls(max_runs=100, max_total=20_000)

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_runs, bool)
            or not isinstance(self.max_runs, int)
            or (self.max_runs < 1)
        ):
            raise ValueError(
                f"Retention.max_runs must be a whole number >= 1, got {self.max_runs!r}"
            )
        if self.max_total is not None and (
            isinstance(self.max_total, bool)
            or not isinstance(self.max_total, int)
            or self.max_total < 1
        ):
            raise ValueError(
                f"Retention.max_total must be a whole number >= 1 or None, got {self.max_total!r}"
            )
        if not isinstance(self.max_age, timedelta) or self.max_age <= timedelta(0):
            raise ValueError(
                f"Retention.max_age must be a positive timedelta, got {self.max_age!r}"
            )


class Store(RunSink, ABC):
    """Persists run history and task state for one app.

    A store is a run sink: the scheduler calls `deliver` with batches of runs (started
    ones only if `wants_started`), and `idle`/`busy` around bursts, on its event loop;
    `record_skip` and `save_task` come on the loop too. All of these must return at once
    (queue the write; a writer thread or task does it). The async methods are called
    rarely (start-up, console, CLI). `open` is called once, before any other method,
    with the app's name.
    """

    retention: Retention = Retention()
    persistent: bool = True
    """Whether what it keeps outlives the process (False: memory)."""
    failure: BaseException | None = None
    """While writes fail (a store writing in the background sets it; None once one
    succeeds again): what a console shows and what makes clocktui exit non-zero."""
    lost: int = 0
    """Records the store gave up on (it could not write them for too long, or at close)."""
    derives_last_firing: bool = False
    """Whether `load_tasks` works out each task's last firing from the runs it keeps (else
    the app saves it with `save_task` as tasks fire)."""

    @abstractmethod
    def deliver(self, runs: Sequence[RunRecord]) -> None:
        """Queue a batch of runs: a record without outcome is a run that began, a later
        one with the same run id replaces it."""

    @abstractmethod
    async def open(self, app_name: str) -> None:
        """Connect or create; raise StoreError with a fix if the store is unusable."""

    @abstractmethod
    async def close(self) -> None:
        """Write what is queued and release resources."""

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
