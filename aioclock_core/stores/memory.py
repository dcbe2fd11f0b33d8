"""MemoryStore: the default store, history kept in this process only (bounded)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from aioclock_core.runs import RunOutcome, RunRecord
from aioclock_core.stores.base import Retention, SkipRecord, Store, TaskRecord

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Keeps the newest finished runs and skips of each task in memory (lost on exit).

    Args:
        retention: How much to keep (default `Retention.in_memory()`: 100 runs per task,
            20,000 runs in all, so memory levels off whatever the number of tasks).
    """

    persistent = False

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention.in_memory()
        self._runs: OrderedDict[UUID, RunRecord] = OrderedDict()
        """Every kept run by run id, oldest first. An OrderedDict, not a dict: taking the
        oldest out of a dict (`next(iter(d))`) scans the holes earlier deletions left at
        its front, which made every firing past the total cost ~20 µs more."""
        self._by_task: dict[UUID, deque[UUID]] = {}
        self._skips: dict[UUID, deque[SkipRecord]] = {}
        self._tasks: dict[UUID, TaskRecord] = {}

    @property
    def wants_started(self) -> bool:
        return False  # a run the process dies during is gone with it anyway

    async def open(self, app_name: str) -> None:
        self.app_name = app_name

    async def close(self) -> None:
        return None

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        kept = self._runs
        by_task = self._by_task
        per_task = self.retention.max_runs
        total = self.retention.max_total
        for run in runs:
            if run.run_id in kept:  # a later record of the same run replaces it in place
                kept[run.run_id] = run
                continue
            order = by_task.get(run.task_id)
            if order is None:
                order = by_task[run.task_id] = deque()
            if len(order) >= per_task:
                kept.pop(order.popleft(), None)
            order.append(run.run_id)
            kept[run.run_id] = run
            if total is not None and len(kept) > total:
                # The oldest run of all goes, and it is the oldest of its task too (both
                # orders are the order of delivery), so its id leaves its task's deque.
                _, oldest = kept.popitem(last=False)
                order = by_task[oldest.task_id]
                if order and order[0] == oldest.run_id:
                    order.popleft()

    def record_skip(self, record: SkipRecord) -> None:
        skips = self._skips.get(record.task_id)
        if skips is None:
            skips = self._skips[record.task_id] = deque(maxlen=self.retention.max_runs)
        skips.append(record)

    def save_task(self, record: TaskRecord) -> None:
        self._tasks[record.task_id] = record

    async def flush(self) -> None:
        return None

    async def load_tasks(self) -> dict[UUID, TaskRecord]:
        return dict(self._tasks)

    async def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        # The app hands memory finished runs only; a run in progress is here only if a
        # caller delivered one, and the same store serves again after a shutdown that
        # gave up waiting for it.
        closed = []
        for run_id, run in self._runs.items():
            if run.outcome is None:
                duration = max(0.0, (at - run.started_at).total_seconds())
                self._runs[run_id] = closed_run = replace(
                    run, ended_at=at, outcome=RunOutcome.INTERRUPTED, duration=duration
                )
                closed.append(closed_run)
        return closed

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        if task_id is not None:
            ids = self._by_task.get(task_id, ())
            runs = [run for run in map(self._runs.get, ids) if run is not None]
        else:
            runs = list(self._runs.values())
        if runs:
            cutoff = max(r.started_at for r in runs) - self.retention.max_age
            runs = [r for r in runs if r.started_at >= cutoff]
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return runs[:limit]

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        groups = [self._skips.get(task_id, deque())] if task_id else list(self._skips.values())
        skips = [s for group in groups for s in group]
        skips.sort(key=lambda s: s.at, reverse=True)
        return skips[:limit]
