"""Run context for logging: records logged during a run carry its task and run ids.

While a run is active (on the loop, or in the worker thread of a sync task) every
`logging.LogRecord` gets three attributes, None outside a run, and the run keeps the
record's message among its own lines (`RunRecord.logs`, bounded):

- `aioclock_task_id` (UUID), `aioclock_task_name` (str), `aioclock_run_id` (UUID).

They are added by a log-record factory that `AioClock.serve()` installs (once per
process, chaining to any factory already installed), so any handler or format string
can use them, e.g. ``"%(levelname)s [%(aioclock_task_name)s] %(message)s"``.
`install_run_context()` installs it earlier by hand; `RunContextFilter` does the same
job for one handler only, if you prefer not to touch the global factory.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

__all__ = ["RunContext", "current_run", "install_run_context", "RunContextFilter"]


@dataclass(frozen=True, slots=True)
class RunContext:
    """The run that the current code belongs to."""

    task_id: UUID
    task_name: str
    run_id: UUID


class _RunFacts(Protocol):
    task_id: UUID
    task_name: str
    run_id: UUID

    def capture(self, record: logging.LogRecord) -> None: ...


_current_run: ContextVar[_RunFacts | None] = ContextVar("aioclock_current_run", default=None)
_install_lock = threading.Lock()
_installed = False


def current_run() -> RunContext | None:
    """The run this code executes in, or None outside of any run."""
    facts = _current_run.get()
    return None if facts is None else RunContext(facts.task_id, facts.task_name, facts.run_id)


def set_current_run(run: _RunFacts) -> None:
    """Mark the current context (a run's own asyncio task) as belonging to `run`."""
    _current_run.set(run)


def _annotate(record: logging.LogRecord) -> None:
    context = _current_run.get()
    if context is None:
        record.aioclock_task_id = None
        record.aioclock_task_name = None
        record.aioclock_run_id = None
    else:
        record.aioclock_task_id = context.task_id
        record.aioclock_task_name = context.task_name
        record.aioclock_run_id = context.run_id
        context.capture(record)  # the run keeps its own lines (RunRecord.logs)


def install_run_context() -> None:
    """Make every log record carry the run context (idempotent, thread-safe)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _annotate(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


class RunContextFilter(logging.Filter):
    """A handler filter that adds the run context attributes and lets every record pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "aioclock_run_id"):
            _annotate(record)
        return True
