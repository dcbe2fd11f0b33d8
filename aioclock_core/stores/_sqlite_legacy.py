"""Reading history files of schema version 2 (packed runs), to migrate them to plain rows.

Version 2 kept each finished run as a 48-byte packed entry: every batch appended one
`journal` row of entries, every checkpoint moved each task's entries into a `chunks`
row; error text and replicas lived in `extras`, runs in progress in `running`. Nothing
writes this format any more; `all_runs` reads every run of such a file.
"""

from __future__ import annotations

import heapq
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from aioclock_core.runs import RunKind, RunOutcome, RunRecord
from aioclock_core.stores.base import Retention

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ENTRY = struct.Struct("<dddQQIBBBx")
"""started_at, scheduled_for, duration (s; instants as POSIX seconds), run id (high and
low 64 bits), task_no, kind, outcome, flags; 48 bytes, so a buffer of entries is also an
array of doubles (six per entry) and its columns can be read without unpacking."""

KINDS: tuple[RunKind, ...] = (RunKind.SCHEDULE, RunKind.MANUAL)
"""Stored codes are indexes here: append new members, never reorder."""
OUTCOMES: tuple[RunOutcome, ...] = (
    RunOutcome.SUCCEEDED,
    RunOutcome.FAILED,
    RunOutcome.TIMED_OUT,
    RunOutcome.CANCELLED,
    RunOutcome.INTERRUPTED,
    RunOutcome.ABANDONED,
)
IN_PROGRESS = 255
"""The outcome code of a run still going (only in memory, never in an entry)."""
HAS_EXTRAS = 1
"""Flag: the run has a row in `extras` (error text, traceback or replica)."""
LOW64 = (1 << 64) - 1

# Decoded entry fields.
STARTED, SCHEDULED, DURATION, HIGH, LOW, TASK, KIND, OUTCOME, FLAGS = range(9)
_KIND_OFFSET, _FLAGS_OFFSET = 44, 46
Entry = tuple[Any, ...]


def instant(value: float) -> datetime:
    """The UTC instant of POSIX seconds, exact to the microsecond it was written with."""
    return _EPOCH + timedelta(microseconds=round(value * 1e6))


def entry_key(entry: Entry) -> bytes:
    return ((entry[HIGH] << 64) | entry[LOW]).to_bytes(16, "big")


def decode(blob: bytes) -> list[Entry]:
    return list(ENTRY.iter_unpack(blob))


@dataclass(frozen=True, slots=True)
class TaskName:
    task_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class Extras:
    error_type: str | None
    error_message: str | None
    traceback: str | None
    replica: str | None
    finished_at: float | None
    """Only when it is not started_at + duration (a run closed as interrupted)."""


def load_names(db: sqlite3.Connection) -> dict[int, TaskName]:
    return {
        number: TaskName(UUID(task_id), name)
        for number, task_id, name in db.execute("SELECT task_no, task_id, task_name FROM tasks")
    }


def running_entries(
    db: sqlite3.Connection, only: set[int] | None
) -> tuple[list[Entry], dict[bytes, str]]:
    """Runs in progress as entries (outcome IN_PROGRESS), and their replicas."""
    entries, replicas = [], {}
    rows = db.execute(
        "SELECT run_id, task_no, kind, scheduled_for, started_at, replica FROM running"
    )
    for key, task_no, kind, scheduled, started, replica in rows:
        if only is not None and task_no not in only:
            continue
        number = int.from_bytes(key, "big")
        entries.append(
            (started, scheduled, 0.0, number >> 64, number & LOW64, task_no, kind, IN_PROGRESS, 0)
        )
        if replica is not None:
            replicas[key] = replica
    return entries, replicas


def journal_entries(db: sqlite3.Connection) -> list[Entry]:
    """Entries written since the last checkpoint (oldest first)."""
    entries: list[Entry] = []
    for (blob,) in db.execute("SELECT entries FROM journal ORDER BY id"):
        entries.extend(ENTRY.iter_unpack(blob))
    return entries


def _newest_first(entries: Iterable[Entry]) -> list[Entry]:
    # Later writes first among equal start times, like the rowid order of a table.
    ordered = list(entries)
    ordered.reverse()
    ordered.sort(key=lambda entry: entry[STARTED], reverse=True)
    return ordered


class _Selection:
    """Keeps, per task, its newest `max_runs` runs no older than `max_age` before its
    newest run, and overall the `limit` newest of those."""

    def __init__(self, limit: int, retention: Retention | None) -> None:
        self.limit = limit
        self.max_runs = retention.max_runs if retention else None
        self.max_age = retention.max_age.total_seconds() if retention else None
        self.kept: list[Entry] = []
        self.per_task: dict[int, int] = {}
        self.newest: dict[int, float] = {}
        self.starts: list[float] = []  # a min-heap of the `limit` newest kept starts

    def offer(self, entries: Iterable[Entry]) -> None:
        """Entries of one source, which must be newer than every later source's."""
        for entry in _newest_first(entries):
            task = entry[TASK]
            count = self.per_task.get(task, 0)
            if self.max_runs is not None and count >= self.max_runs:
                continue
            newest = self.newest.setdefault(task, entry[STARTED])
            if self.max_age is not None and entry[STARTED] < newest - self.max_age:
                continue
            self.per_task[task] = count + 1
            self.kept.append(entry)
            if len(self.starts) < self.limit:
                heapq.heappush(self.starts, entry[STARTED])
            elif entry[STARTED] > self.starts[0]:
                heapq.heapreplace(self.starts, entry[STARTED])

    def complete_before(self, started: float) -> bool:
        """Whether entries that started at or before `started` can no longer make the cut."""
        return len(self.starts) >= self.limit and self.starts[0] > started

    def result(self) -> list[Entry]:
        return _newest_first(reversed(self.kept))[: self.limit]


def select_runs(
    db: sqlite3.Connection,
    names: dict[int, TaskName],
    only: set[int] | None,
    recent: list[Entry],
    limit: int,
    retention: Retention | None,
) -> list[RunRecord]:
    """Runs newest first: in progress and `recent` (not checkpointed yet; oldest first),
    then chunks newest first until no older chunk can make the cut."""
    if limit <= 0 or (only is not None and not only):
        return []
    in_progress, replicas = running_entries(db, only)
    selection = _Selection(limit, retention)
    selection.offer([*recent, *in_progress])
    if only is None:
        chunks: Iterator[Any] = db.execute(
            "SELECT last_started, entries FROM chunks ORDER BY last_started DESC, id DESC"
        )
    else:
        marks = ", ".join("?" * len(only))
        chunks = db.execute(
            f"SELECT last_started, entries FROM chunks WHERE task_no IN ({marks}) "
            "ORDER BY last_started DESC, id DESC",
            sorted(only),
        )
    for last_started, blob in chunks:
        if selection.complete_before(last_started):
            break
        selection.offer(reversed(decode(blob)))
    chosen = selection.result()
    extras = load_extras(db, [entry_key(e) for e in chosen if e[FLAGS] & HAS_EXTRAS])
    return [to_record(entry, names, extras, replicas) for entry in chosen]


def load_extras(db: sqlite3.Connection, keys: list[bytes]) -> dict[bytes, Extras]:
    found: dict[bytes, Extras] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        rows = db.execute(
            "SELECT run_id, error_type, error_message, traceback, replica, finished_at FROM extras "
            f"WHERE run_id IN ({', '.join('?' * len(part))})",
            part,
        )
        for key, *fields in rows:
            found[key] = Extras(*fields)
    return found


_NO_EXTRAS = Extras(None, None, None, None, None)


def to_record(
    entry: Entry,
    names: dict[int, TaskName],
    extras: dict[bytes, Extras],
    replicas: dict[bytes, str],
) -> RunRecord:
    task = names[entry[TASK]]
    key = entry_key(entry)
    started = instant(entry[STARTED])
    record = RunRecord(
        run_id=UUID(bytes=key),
        task_id=task.task_id,
        task_name=task.name,
        kind=KINDS[entry[KIND]],
        scheduled_for=instant(entry[SCHEDULED]),
        started_at=started,
        replica=replicas.get(key),
    )
    if entry[OUTCOME] == IN_PROGRESS:
        return record
    more = extras.get(key, _NO_EXTRAS)
    duration = entry[DURATION]
    end = more.finished_at
    return replace(
        record,
        ended_at=started + timedelta(seconds=duration) if end is None else instant(end),
        outcome=OUTCOMES[entry[OUTCOME]],
        duration=duration,
        error_type=more.error_type,
        error_message=more.error_message,
        traceback=more.traceback,
        replica=more.replica,
    )


def all_runs(db: sqlite3.Connection) -> list[RunRecord]:
    """Every run of a version 2 file (finished and in progress), newest first."""
    names = load_names(db)
    return select_runs(db, names, None, journal_entries(db), 1 << 62, None)
