"""TaskEntry: the scheduler's live record of a task; Run: its private record of a run in flight."""

from __future__ import annotations

import asyncio
import logging
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from aioclock_core._timeline import Timeline
from aioclock_core.runs import (
    MAX_LOG_BYTES,
    MAX_LOG_LINES,
    MAX_RESULT_CHARS,
    LogLine,
    RunKind,
    RunOutcome,
    RunRecord,
)
from aioclock_core.state import TaskSnapshot, task_state
from aioclock_core.task import Task

if TYPE_CHECKING:
    import anyio

    from aioclock_core._processes import ProcessPool

_result_repr = reprlib.Repr()
_result_repr.maxstring = _result_repr.maxother = MAX_RESULT_CHARS
_result_repr.maxlist = _result_repr.maxtuple = _result_repr.maxdict = 50
_result_repr.maxset = _result_repr.maxfrozenset = _result_repr.maxdeque = 50


def bounded_repr(value: Any) -> str | None:
    """A return value as the record keeps it: None for None, else a repr of at most
    MAX_RESULT_CHARS characters (reprlib bounds the work on a huge value, too)."""
    if value is None:
        return None
    try:
        text = _result_repr.repr(value)
    except Exception as error:  # a __repr__ that raises must not fail the run
        text = f"<{type(value).__name__}: repr raised {type(error).__name__}>"
    if len(text) > MAX_RESULT_CHARS:
        text = text[: MAX_RESULT_CHARS - 1] + "…"
    return text


@dataclass(eq=False, slots=True)
class Run:
    """One run in flight: the engine's own mutable record. Nothing outside the engine
    sees it; `started_record()` and `finished_record()` are what leaves."""

    task_id: UUID
    task_name: str
    run_id: UUID
    kind: RunKind
    scheduled_for: datetime
    now: Callable[[], datetime]
    replica: str | None = None
    attempt: int = 1
    task: asyncio.Task[None] | None = None
    timed_out: bool = False
    cancelled_by_user: bool = False
    result: Any = None
    error: BaseException | None = None
    started_at: datetime | None = None
    duration: float = 0.0
    outcome: RunOutcome | None = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    claim_key: str | None = None
    delay: float = 0.0
    """Seconds the run waits before it starts (its jitter)."""
    waiting_for: str | None = None
    """What the run waits for before its body starts ("a worker thread"…), if anything."""
    thread_running: bool = False
    """Its body runs in a worker thread that has not returned yet."""
    process_killed: bool = False
    """Its worker process was terminated (it timed out or was cancelled)."""
    overran: bool = False
    """It ended while its thread kept running (the thread still holds its slots)."""
    record: RunRecord | None = None
    """Its finished record, once it ended."""
    logs: list[LogLine] | None = None
    log_chars: int = 0
    logs_dropped: int = 0

    def capture(self, record: logging.LogRecord) -> None:
        """Keep a line the run logged (any thread), within the run's bounds."""
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: logging reports it at emit time, not here
            message = str(record.msg)
        if self.logs is None:
            self.logs = []
        if len(self.logs) >= MAX_LOG_LINES or self.log_chars + len(message) > MAX_LOG_BYTES:
            self.logs_dropped += 1
            return
        self.log_chars += len(message)
        self.logs.append(LogLine(at=self.now(), level=record.levelname, message=message))

    def started_record(self) -> RunRecord:
        # Field by field, as finished_record (why: there); built only when a sink wants it.
        assert self.started_at is not None
        record = _new_record(RunRecord)
        _set(record, "run_id", self.run_id)
        _set(record, "task_id", self.task_id)
        _set(record, "task_name", self.task_name)
        _set(record, "kind", self.kind)
        _set(record, "scheduled_for", self.scheduled_for)
        _set(record, "started_at", self.started_at)
        _set(record, "ended_at", None)
        _set(record, "duration", None)
        _set(record, "outcome", None)
        _set(record, "error_type", None)
        _set(record, "error_message", None)
        _set(record, "traceback", None)
        _set(record, "result", None)
        _set(record, "attempt", self.attempt)
        _set(record, "replica", self.replica)
        _set(record, "logs", ())
        return record

    def finished_record(self) -> RunRecord:
        assert self.started_at is not None and self.outcome is not None
        logs: tuple[LogLine, ...] = ()
        if self.logs is not None:
            logs = tuple(self.logs)
            if self.logs_dropped:
                logs += (
                    LogLine(
                        at=self.now(),
                        level="WARNING",
                        message=f"{self.logs_dropped} lines dropped (a run keeps "
                        f"{MAX_LOG_LINES} lines, {MAX_LOG_BYTES // 1024} KiB)",
                    ),
                )
        # Built field by field instead of through RunRecord(...): the frozen dataclass's
        # __init__ matches 16 keyword arguments and sets each field through a global
        # lookup, about 3 µs of the ~20 µs a firing costs; this is one record per run,
        # on the path of every firing (benchmark: CPU per firing, p99 at 10,000 tasks).
        # tests/core/test_runs.py checks it equals the public constructor's record.
        record = _new_record(RunRecord)
        _set(record, "run_id", self.run_id)
        _set(record, "task_id", self.task_id)
        _set(record, "task_name", self.task_name)
        _set(record, "kind", self.kind)
        _set(record, "scheduled_for", self.scheduled_for)
        _set(record, "started_at", self.started_at)
        _set(record, "ended_at", self.started_at + timedelta(seconds=self.duration))
        _set(record, "duration", self.duration)
        _set(record, "outcome", self.outcome)
        _set(record, "error_type", self.error_type)
        _set(record, "error_message", self.error_message)
        _set(record, "traceback", self.traceback)
        _set(record, "result", None if self.result is None else bounded_repr(self.result))
        _set(record, "attempt", self.attempt)
        _set(record, "replica", self.replica)
        _set(record, "logs", logs)
        return record


_new_record = object.__new__
_set = object.__setattr__


@dataclass(eq=False, slots=True)
class TaskEntry:
    """Everything the scheduler tracks about one task."""

    task: Task
    call: Callable[[], Any]
    is_async: bool
    limiter: anyio.CapacityLimiter | None
    executor: str = "loop"
    """Where the body runs: "loop" (async def), "thread" or "process"."""
    arguments: Callable[[], Any] | None = None
    """For a process task with dependencies: resolves them into (args, kwargs)."""
    process_pool: ProcessPool | None = None
    timeline: Timeline | None = None
    legacy: bool = False
    paused: bool = False
    finished: bool = False
    deferred: bool = False
    planned_at: float | None = None
    """The instant (timestamp) it is planned to fire at, on the scheduler's heap (None:
    not planned)."""
    last_instant: datetime | None = None
    runs: list[Run] = field(default_factory=list)
    """Its runs in flight, oldest first (usually none or one). A list, not a dict: a
    dict that empties is untracked by the collector and tracked anew, as a young object,
    at its next insertion, so 10,000 tasks' dicts went through every generation again
    each second; a list stays where it is."""
    run_count: int = 0
    failure_count: int = 0
    last_run: RunRecord | None = None
    label: str = ""
    coordination_warned: bool = False
    overrunning: int = 0
    """Runs in `runs` that ended while their worker thread still runs."""

    @property
    def next_fire_time(self) -> datetime | None:
        return None if self.timeline is None or self.finished else self.timeline.pending

    def snapshot(self) -> TaskSnapshot:
        running = len(self.runs) - self.overrunning
        return TaskSnapshot(
            task_id=self.task.id,
            task_name=self.task.name,
            group=self.task.group,
            state=task_state(
                running=running,
                paused=self.paused,
                finished=self.finished,
                overrunning=self.overrunning,
            ),
            next_fire_time=self.next_fire_time,
            running=running,
            last_run=self.last_run,
            run_count=self.run_count,
            failure_count=self.failure_count,
            paused=self.paused,
            overrunning_threads=self.overrunning,
        )
