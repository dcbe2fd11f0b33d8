"""MemoryStore: the default store, history kept in this process only (bounded)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from aioclock_core.runs import LogLine, RunKind, RunOutcome, RunRecord
from aioclock_core.stores.base import Retention, SkipRecord, Store, TaskRecord

__all__ = ["MemoryStore"]

_Row = tuple[Any, ...]
"""A kept run as a plain tuple of ints, strings, floats, datetimes and None (see `_row`)."""


def _row(run: RunRecord) -> _Row:
    """The run as a tuple of values the cyclic garbage collector does not track.

    Why not keep the `RunRecord`: each one (and its run id `UUID`) is a tracked object,
    and the 20,000 runs kept by default, replaced at the rate of the firings, were most
    of what the collector scanned while serving: with 10,000 randomly phased tasks its
    collections took 10-60 ms every second or two and made the p99 lateness. A tuple of
    untracked values is untracked by the collector the first time it sees it. Reads
    (rare: a detail screen, the API) rebuild records with `_record`."""
    outcome = run.outcome
    return (
        run.run_id.int,
        run.task_id.int,
        run.task_name,
        run.kind._value_,  # _value_: the enum's plain attribute, cheaper than .value
        run.scheduled_for,
        run.started_at,
        run.ended_at,
        run.duration,
        None if outcome is None else outcome._value_,
        run.error_type,
        run.error_message,
        run.traceback,
        run.result,
        run.attempt,
        run.replica,
        tuple((line.at, line.level, line.message) for line in run.logs) if run.logs else (),
    )


def _record(row: _Row) -> RunRecord:
    """The `RunRecord` that `_row` kept."""
    outcome = row[8]
    return RunRecord(
        run_id=UUID(int=row[0]),
        task_id=UUID(int=row[1]),
        task_name=row[2],
        kind=RunKind(row[3]),
        scheduled_for=row[4],
        started_at=row[5],
        ended_at=row[6],
        duration=row[7],
        outcome=None if outcome is None else RunOutcome(outcome),
        error_type=row[9],
        error_message=row[10],
        traceback=row[11],
        result=row[12],
        attempt=row[13],
        replica=row[14],
        logs=tuple(LogLine(at=at, level=level, message=message) for at, level, message in row[15]),
    )


class MemoryStore(Store):
    """Keeps the newest runs in memory (lost on exit): at most `retention.max_total` in
    all, and reads give at most `retention.max_runs` of each task.

    Runs are kept in one deque, newest last, whose length bounds the memory: keeping a
    run is one append (the oldest falls off by itself), which is what a store on the path
    of every firing should cost. Each run is kept as a tuple of plain values rather than
    its `RunRecord`, so that the collector need not scan the runs kept (see `_row`).
    Reading one task's runs scans the deque (a few milliseconds for 20,000 runs): reads
    are rare (a console's detail screen, the API).

    Args:
        retention: How much to keep (default `Retention.in_memory()`: 100 runs per task,
            20,000 runs in all, so memory levels off whatever the number of tasks; a
            retention without `max_total` keeps 20,000 in all too).
    """

    persistent = False

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention.in_memory()
        total = self.retention.max_total or Retention.in_memory().max_total
        self._runs: deque[_Row] = deque(maxlen=total)
        self._open: dict[UUID, RunRecord] = {}
        """Runs delivered without outcome (only when a caller delivers started runs)."""
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
        if not self._open and all(run.outcome is not None for run in runs):
            self._runs.extend(map(_row, runs))  # the path of every firing: finished runs
            return
        for run in runs:
            started = self._open.pop(run.run_id, None)
            if started is not None:  # its end replaces it where it stands
                self._replace(run)
            else:
                if run.outcome is None:
                    self._open[run.run_id] = run
                self._runs.append(_row(run))

    def _replace(self, new: RunRecord) -> None:
        runs = self._runs
        run_id = new.run_id.int
        for index in range(len(runs) - 1, -1, -1):
            if runs[index][0] == run_id:
                runs[index] = _row(new)
                return
        runs.append(_row(new))  # it fell off the end meanwhile

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
        for started in list(self._open.values()):
            duration = max(0.0, (at - started.started_at).total_seconds())
            ended = replace(started, ended_at=at, outcome=RunOutcome.INTERRUPTED, duration=duration)
            self._replace(ended)
            closed.append(ended)
        self._open.clear()
        return closed

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        runs = self._newest(task_id)
        if runs:
            cutoff = max(r.started_at for r in runs) - self.retention.max_age
            runs = [r for r in runs if r.started_at >= cutoff]
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return runs[:limit]

    def _newest(self, task_id: UUID | None) -> list[RunRecord]:
        """The kept runs, newest first in delivery order, at most `max_runs` per task."""
        per_task = self.retention.max_runs
        counts: dict[int, int] = {}
        found = []
        wanted = None if task_id is None else task_id.int
        newest_first: Iterable[_Row] = reversed(self._runs)
        for row in newest_first:
            task = row[1]
            if wanted is not None and task != wanted:
                continue
            count = counts.get(task, 0)
            if count < per_task:
                counts[task] = count + 1
                found.append(row)
                if wanted is not None and count + 1 >= per_task:
                    break
        return [_record(row) for row in found]

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        groups = [self._skips.get(task_id, deque())] if task_id else list(self._skips.values())
        skips = [s for group in groups for s in group]
        skips.sort(key=lambda s: s.at, reverse=True)
        return skips[:limit]
