"""MissedWhileStopped: the firings an app missed while it was not running, in one log line.

At start the scheduler resumes each task's timeline after its last stored firing and logs,
per task, the firings it missed meanwhile ("Task X: 42 firing(s) up to … missed"). After a
night off that is one warning per task; this handler filter folds those about firings due
before the start into one line: "missed 126 firings of 3 tasks while stopped". Firings
missed later (the scheduler really woke up late) are logged as before.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

__all__ = ["MissedWhileStopped", "MISSED_MARK"]

MISSED_MARK = "missed (the scheduler woke up late)"
"""The end of the core's per-task message about missed firings (its arguments are the task
name, the count and the last missed instant in ISO 8601)."""
QUIET = 0.5
"""Seconds without another such warning after which the summary is logged."""


class MissedWhileStopped(logging.Filter):
    """A filter for `handler`: holds back the per-task warnings about firings due before
    `since` and hands `handler` one summary once they stop coming."""

    def __init__(self, handler: logging.Handler, since: datetime, quiet: float = QUIET) -> None:
        super().__init__()
        self.handler = handler
        self.since = since
        self.quiet = quiet
        self._lock = threading.Lock()
        self._tasks: set[str] = set()
        self._firings = 0
        self._last = 0.0
        self._timer: threading.Timer | None = None

    @classmethod
    def attach(cls, handler: logging.Handler, since: datetime) -> MissedWhileStopped:
        """Add the filter to `handler`; returns it."""
        summary = cls(handler, since)
        handler.addFilter(summary)
        return summary

    def detach(self) -> None:
        """Remove the filter, logging any summary still held back."""
        self.handler.removeFilter(self)
        self.flush()

    def filter(self, record: logging.LogRecord) -> bool:
        missed = _missed_before(record, self.since)
        if missed is None:
            return True
        task, count = missed
        with self._lock:
            self._tasks.add(task)
            self._firings += count
            self._last = time.monotonic()
            if self._timer is None:
                self._timer = threading.Timer(self.quiet, self._flush_when_quiet)
                self._timer.daemon = True
                self._timer.start()
        return False

    def _flush_when_quiet(self) -> None:
        with self._lock:
            wait = self._last + self.quiet - time.monotonic()
            if wait > 0:  # more came meanwhile: wait for the end of them
                self._timer = threading.Timer(wait, self._flush_when_quiet)
                self._timer.daemon = True
                self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        """Log the summary of what was held back, if anything."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            tasks, firings = len(self._tasks), self._firings
            self._tasks, self._firings = set(), 0
        if not firings:
            return
        record = logging.LogRecord(
            "aioclock",
            logging.WARNING,
            __file__,
            0,
            "missed %d firing%s of %d task%s while stopped",
            (firings, "" if firings == 1 else "s", tasks, "" if tasks == 1 else "s"),
            None,
        )
        self.handler.handle(record)


def _missed_before(record: logging.LogRecord, since: datetime) -> tuple[str, int] | None:
    """(task name, firings) when `record` is the core's warning about firings missed, the
    last of them before `since`; else None."""
    if not isinstance(record.msg, str) or not record.msg.endswith(MISSED_MARK):
        return None
    args = record.args
    if not isinstance(args, tuple) or len(args) != 3:
        return None
    task, count, last = args
    try:
        instant = datetime.fromisoformat(str(last))
    except ValueError:
        return None
    if instant >= since or not isinstance(count, int):
        return None
    return str(task), count
