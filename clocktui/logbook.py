"""Log records captured from the hosted app, kept for the log panes in bounded memory."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

__all__ = ["LogEntry", "LogBook", "SCROLLBACK"]

SCROLLBACK = 10_000
"""Records kept of every task together: the log pane's scrollback."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log record, reduced to what the console shows."""

    at: datetime
    level: int
    logger: str
    message: str
    task_id: UUID | None
    task_name: str | None
    exception: str | None = None
    """The formatted traceback, when the record carried one."""

    @classmethod
    def of(cls, record: logging.LogRecord, at: datetime) -> LogEntry:
        """Capture `record` (formatting its message and any exception) at `at`."""
        try:
            message = record.getMessage()
        except Exception as error:  # a bad format string must not lose the record
            message = f"{record.msg!r} (unformattable: {error})"
        exception = None
        if record.exc_info and record.exc_info[0] is not None:
            exception = logging.Formatter().formatException(record.exc_info)
        return cls(
            at=at,
            level=record.levelno,
            logger=record.name,
            message=message,
            task_id=getattr(record, "aioclock_task_id", None),
            task_name=getattr(record, "aioclock_task_name", None),
            exception=exception,
        )


class LogBook:
    """The latest `limit` records overall, and each task's latest `per_task` (those of
    tasks that log rarely outlive a flood from another task) up to `task_budget` records
    for all tasks together: the tasks that logged least recently give theirs up first.
    Memory is bounded by construction, whatever the rate of records."""

    def __init__(
        self, limit: int = SCROLLBACK, per_task: int = 500, task_budget: int = 20_000
    ) -> None:
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self._per_task_limit = per_task
        self._task_budget = task_budget
        self._task_kept = 0
        self._by_task: OrderedDict[UUID, deque[LogEntry]] = OrderedDict()

    def add(self, entry: LogEntry) -> None:
        """Keep `entry`, dropping the oldest beyond the limits."""
        self.entries.append(entry)
        task_id = entry.task_id
        if task_id is None:
            return
        kept = self._by_task.get(task_id)
        if kept is None:
            kept = self._by_task[task_id] = deque(maxlen=self._per_task_limit)
        else:
            self._by_task.move_to_end(task_id)
        if len(kept) < self._per_task_limit:
            self._task_kept += 1
        kept.append(entry)
        while self._task_kept > self._task_budget:
            _, oldest = self._by_task.popitem(last=False)
            self._task_kept -= len(oldest)

    @property
    def task_records(self) -> int:
        """How many records the per-task lists hold together (at most `task_budget`, plus
        the latest task's)."""
        return self._task_kept

    def of_task(self, task_id: UUID) -> list[LogEntry]:
        """The kept records logged by runs of one task."""
        return list(self._by_task.get(task_id, ()))
