"""MemoryStore: the default store, history kept in this process only."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from aioclock_core.events import RunOutcome
from aioclock_core.stores.base import (
    Retention,
    RunHooks,
    RunRecord,
    SkipRecord,
    Store,
    TaskRecord,
)

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Keeps the newest runs and skips of each task in memory (lost on exit).

    Args:
        retention: How much to keep per task (count and age).
    """

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention()
        self._runs: dict[UUID, dict[UUID, Any]] = {}  # RunRecord, or a kept run
        self._skips: dict[UUID, deque[SkipRecord]] = {}
        self._tasks: dict[UUID, TaskRecord] = {}

    async def open(self, app_name: str) -> None:
        self.app_name = app_name

    async def close(self) -> None:
        return None

    def record_run_started(self, record: RunRecord) -> None:
        runs = self._runs.get(record.task_id)
        if runs is None:
            runs = self._runs[record.task_id] = {}
        runs[record.run_id] = record
        if len(runs) > self.retention.max_runs:
            del runs[next(iter(runs))]

    def record_run_finished(self, record: RunRecord) -> None:
        runs = self._runs.get(record.task_id)
        if runs is None:
            runs = self._runs[record.task_id] = {}
        runs[record.run_id] = record  # replaces the started record in place
        if len(runs) > self.retention.max_runs:
            del runs[next(iter(runs))]

    def run_recorders(self, replica: str | None) -> RunHooks:
        return RunHooks(started=None, finished=self.keep_run)

    def keep_run(self, run: Any) -> None:
        """Keep a finished run as the scheduler's own object (task_id, run_id, kind,
        scheduled_for, started_at, duration, outcome, error fields); it becomes a RunRecord
        only when read, so the default store costs one dict insert per firing."""
        runs = self._runs.get(run.task_id)
        if runs is None:
            runs = self._runs[run.task_id] = {}
        runs[run.run_id] = run
        if len(runs) > self.retention.max_runs:
            del runs[next(iter(runs))]

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
        # Memory dies with its process; a run can still be left open when the same store
        # serves again after a shutdown that gave up waiting for it.
        closed = []
        for runs in self._runs.values():
            for run_id, run in runs.items():
                if run.outcome is None:
                    duration = max(0.0, (at - run.started_at).total_seconds())
                    runs[run_id] = replace(
                        run, finished_at=at, outcome=RunOutcome.INTERRUPTED, duration=duration
                    )
                    closed.append(runs[run_id])
        return closed

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        cutoff = None
        groups = [self._runs.get(task_id, {})] if task_id else list(self._runs.values())
        runs = [run for group in groups for run in group.values()]
        if runs:
            newest = max(r.started_at for r in runs)
            cutoff = newest - self.retention.max_age
        runs = [r for r in runs if cutoff is None or r.started_at >= cutoff]
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return [_as_record(run) for run in runs[:limit]]

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        groups = [self._skips.get(task_id, deque())] if task_id else list(self._skips.values())
        skips = [s for group in groups for s in group]
        skips.sort(key=lambda s: s.at, reverse=True)
        return skips[:limit]


def _as_record(run: Any) -> RunRecord:
    if isinstance(run, RunRecord):
        return run
    return RunRecord(
        run_id=run.run_id,
        task_id=run.task_id,
        task_name=run.task_name,
        kind=run.kind,
        scheduled_for=run.scheduled_for,
        started_at=run.started_at,
        finished_at=run.started_at + timedelta(seconds=run.duration),
        outcome=run.outcome,
        duration=run.duration,
        error_type=run.error_type,
        error_message=run.error_message,
        traceback=run.traceback,
    )
