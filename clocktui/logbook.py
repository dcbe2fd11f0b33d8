"""Log records captured from the hosted app, kept for the log panes (bounded)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

__all__ = ["LogEntry", "LogBook"]


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
    """The latest records overall and per task."""

    def __init__(self, limit: int = 2000, per_task: int = 200) -> None:
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self._per_task_limit = per_task
        self._by_task: dict[UUID, deque[LogEntry]] = {}

    def add(self, entry: LogEntry) -> None:
        """Keep `entry`, dropping the oldest beyond the limits."""
        self.entries.append(entry)
        if entry.task_id is not None:
            kept = self._by_task.get(entry.task_id)
            if kept is None:
                kept = self._by_task[entry.task_id] = deque(maxlen=self._per_task_limit)
            kept.append(entry)

    def of_task(self, task_id: UUID) -> list[LogEntry]:
        """The kept records logged by runs of one task."""
        return list(self._by_task.get(task_id, ()))
