"""SQLiteStore: run history and task state in a SQLite file, written by one batching thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar, Union, cast
from uuid import UUID

from aioclock_core.events import RunOutcome
from aioclock_core.stores import _sqlite_runs as runs
from aioclock_core.stores._sqlite_schema import (
    FORMAT,
    MICROSECOND,
    SCHEMA_VERSION,
    SKIP_COLUMNS,
    Row,
    check_schema,
    marks,
    migrate,
    query_skips,
    query_tasks,
    skip_row,
    stamp,
    unusable,
)
from aioclock_core.stores.base import (
    Retention,
    RunHooks,
    RunRecord,
    SkipRecord,
    Store,
    StoreError,
    TaskRecord,
)

UPSERT_TASK = (
    "INSERT INTO tasks (task_id, task_name, paused, last_fire_time) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET task_name = excluded.task_name, "
    "paused = excluded.paused, last_fire_time = COALESCE("
    "MAX(excluded.last_fire_time, last_fire_time), excluded.last_fire_time, last_fire_time)"
)
"""A saved state: the paused flag as given; the last firing never moves back."""

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; one writer per file is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["SQLiteStore", "SQLiteReader", "SCHEMA_VERSION", "FORMAT"]

logger = logging.getLogger("aioclock.store")
T = TypeVar("T")

# ----- the writer thread -----------------------------------------------------------------------


class _Call:
    """Work for the writer thread, done in queue order (after earlier writes)."""

    __slots__ = ("function", "future")

    def __init__(self, function: Callable[[_Writer], object]) -> None:
        self.function = function
        self.future: concurrent.futures.Future[object] = concurrent.futures.Future()


_Item = Union[RunRecord, SkipRecord, TaskRecord, _Call]
_ChunkInfo = list[Any]  # [id, last_started, count, flagged]


PAGE_SIZE = 16384
"""Bytes per page of a new file: a batch's journal row (48 bytes per run) then spans a
quarter of the overflow pages that 4 KiB pages need, and a checkpoint frees and writes
a quarter as many pages."""
_MIN_GAP = 0.02
"""Seconds: the writer writes at most this often, however often the loop goes idle."""


def _take(queue: deque[Any], count: int) -> list[Any]:
    popleft = queue.popleft
    return [popleft() for _ in range(count)]


class _Writer:
    """Owns the connection. Every `batch_interval` s it writes what was queued (one
    journal row of packed runs per transaction); every `prune_interval` s it
    checkpoints: each task's runs since the last checkpoint become one chunk row, the
    journal is emptied and the retention applied."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.path = store.path
        self.queue = store._queue
        self.started = store._started
        self.finished = store._finished
        self.wake = threading.Event()
        self.idle = False  # the scheduler signalled a moment without runs in flight
        self.busy = False  # runs are in flight (a burst), since busy_since
        self.busy_since = 0.0
        self.call_waiting = False
        self.connection: sqlite3.Connection | None = None
        self.lock_file: IO[bytes] | None = None
        self.failure: BaseException | None = None
        self.closed = False
        # Task numbers (entries store a number, not the 36-character id).
        self.numbers: dict[UUID, int] = {}
        self.names: dict[int, runs.TaskName] = {}
        self.by_identity: dict[int, int] = {}  # id() of a task's UUID object -> number
        self.pinned: list[UUID] = []  # keeps those UUID objects (and so their ids) alive
        self.new_tasks: list[tuple[int, str, str]] = []
        # Since the last checkpoint: each task's packed entries (also in the journal).
        self.buffers: dict[int, bytearray] = {}
        self.running: set[bytes] = set()  # run ids with a row in `running`
        self.directory: dict[int, list[_ChunkInfo]] = {}  # each task's chunks, oldest first
        self.next_chunk_id = 1
        self.prune_everything = True
        self.skips_touched: set[str] = set()
        self.thread = threading.Thread(
            target=self._run, name=f"aioclock-store:{self.path.name}", daemon=True
        )

    @property
    def db(self) -> sqlite3.Connection:
        assert self.connection is not None, "the store is not open"
        return self.connection

    def _run(self) -> None:
        store = self.store
        # Real time on purpose: this paces disk writes, not firings (the app's clock may be
        # a FakeClock that never moves).
        next_checkpoint = time.monotonic() + store.prune_interval
        last_drain = 0.0
        try:
            while not self.closed:
                self.wake.wait(store.batch_interval)
                self.wake.clear()
                self.idle = False
                if not self.call_waiting:
                    # Mid-burst, wait for its end (which wakes us), unless the scheduler
                    # has been busy for a whole batch_interval.
                    if self.busy and time.monotonic() - self.busy_since < store.batch_interval:
                        continue
                    # Woken by a burst's end again so soon: let runs gather.
                    gap = _MIN_GAP - (time.monotonic() - last_drain)
                    if gap > 0 and self.wake.wait(gap):
                        self.wake.clear()
                self.call_waiting = False
                self._drain()
                last_drain = time.monotonic()
                if not self.closed and self.connection and time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + store.prune_interval
                    self._checkpoint_guarded()
        except BaseException:
            logger.exception("The history writer of %s stopped", self.path)
            self._release()
            raise

    def _drain(self) -> None:
        """Write everything queued; a call runs after every write queued before it."""
        queue = self.queue
        size = self.store.batch_size
        while not self.closed:
            misc: list[_Item] = []
            call = None
            while queue:
                item = queue.popleft()
                if type(item) is _Call:
                    call = item
                    break
                misc.append(item)
            # Runs queued before the call are in the deques now; later ones may be too.
            due_finished, due_started = len(self.finished), len(self.started)
            if not (misc or due_finished or due_started or call):
                return
            while misc or due_finished or due_started:
                finished = _take(self.finished, min(due_finished, size))
                started = _take(self.started, min(due_started, size))
                due_finished -= len(finished)
                due_started -= len(started)
                if self.connection is not None:
                    self._write(finished, started, misc)
                misc = []
            if call is not None:
                self._execute(call)

    def _execute(self, call: _Call) -> None:
        try:
            result = call.function(self)
        except BaseException as error:
            call.future.set_exception(error)
        else:
            call.future.set_result(result)

    def _number(self, task_id: UUID, name: str) -> int:
        number = self.numbers.get(task_id)
        if number is None:
            number = len(self.numbers) + 1
            while number in self.names:
                number += 1
            self.numbers[task_id] = number
            self.names[number] = runs.TaskName(task_id, name)
            self.new_tasks.append((number, str(task_id), name))
        self.by_identity[id(task_id)] = number
        self.pinned.append(task_id)
        return number

    def _write(self, finished: list[Any], started: list[Any], misc: list[_Item]) -> None:
        """One transaction: the finished runs as one journal row, runs still going into
        `running`, then skips and task states."""
        # Entries go to the task's buffer (the next checkpoint writes it) and to this
        # batch's journal row (which only a crash before that checkpoint ever reads).
        journal: list[bytes] = []
        append = journal.append
        buffers = self.buffers
        extras: list[tuple[object, ...]] = []
        running: list[tuple[object, ...]] = []
        gone: list[bytes] = []
        skips: list[Row] = []
        tasks: dict[UUID, TaskRecord] = {}
        replica = self.store.replica
        by_identity = self.by_identity
        kind_code, outcome_code = runs.KIND_CODE, runs.OUTCOME_CODE
        pack = runs.ENTRY.pack
        low = runs.LOW64
        schedule, succeeded = runs.KINDS[0], runs.OUTCOMES[0]
        in_running = self.running
        last_scheduled: object = None
        last_seconds = 0.0
        # The scheduler's own run objects (the hot path: one entry each, nothing else).
        for run in finished:
            number = by_identity.get(id(run.task_id))
            if number is None:
                number = self._number(run.task_id, run.task_name)
            scheduled = run.scheduled_for
            # A burst shares one instant: comparing is cheaper than converting.
            if scheduled is not last_scheduled and scheduled != last_scheduled:
                last_scheduled, last_seconds = scheduled, scheduled.timestamp()
            run_number = run.run_id.int
            flags = 0
            if run.error_type is not None or replica is not None:
                flags = runs.HAS_EXTRAS
                extras.append(
                    (
                        run.run_id.bytes,
                        run.error_type,
                        run.error_message,
                        run.traceback,
                        replica,
                        None,
                    )
                )
            kind = run.kind
            outcome = run.outcome
            entry = pack(
                run.started_at.timestamp(),
                last_seconds,
                run.duration,
                run_number >> 64,
                run_number & low,
                number,
                0 if kind is schedule else kind_code[id(kind)],
                0 if outcome is succeeded else outcome_code[id(outcome)],
                flags,
            )
            append(entry)
            buffer = buffers.get(number)
            if buffer is None:
                buffers[number] = bytearray(entry)
            else:
                buffer += entry
            if in_running and run.run_id.bytes in in_running:
                gone.append(run.run_id.bytes)
        # A run that ended already needs nothing here: its entry says all.
        for run in [run for run in started if not run.ended]:
            number = by_identity.get(id(run.task_id))
            if number is None:
                number = self._number(run.task_id, run.task_name)
            running.append(
                (
                    run.run_id.bytes,
                    number,
                    kind_code[id(run.kind)],
                    runs.seconds(run.scheduled_for),
                    runs.seconds(run.started_at),
                    replica,
                )
            )
        # Records queued by callers of the Store API, in their order.
        ended = {
            item.run_id for item in misc if type(item) is RunRecord and item.outcome is not None
        }
        for item in misc:
            kind = type(item)
            if kind is RunRecord:
                record = cast(RunRecord, item)
                number = self.numbers.get(record.task_id) or self._number(
                    record.task_id, record.task_name
                )
                key = record.run_id.bytes
                if record.outcome is None:
                    if record.run_id not in ended:
                        running.append(
                            (
                                key,
                                number,
                                kind_code[id(record.kind)],
                                runs.seconds(record.scheduled_for),
                                runs.seconds(record.started_at),
                                record.replica,
                            )
                        )
                    continue
                more = (record.error_type, record.error_message, record.traceback, record.replica)
                end = runs.odd_end(record)
                flags = 0
                if end is not None or any(v is not None for v in more):
                    flags = runs.HAS_EXTRAS
                    extras.append((key, *more, end))
                entry = runs.pack_record(number, record, flags)
                journal.append(entry)
                buffers.setdefault(number, bytearray()).extend(entry)
                if key in in_running:
                    gone.append(key)
            elif kind is SkipRecord:
                skip = cast(SkipRecord, item)
                skips.append(skip_row(skip))
                self.skips_touched.add(str(skip.task_id))
            elif kind is TaskRecord:
                state = cast(TaskRecord, item)
                tasks.pop(state.task_id, None)
                tasks[state.task_id] = state  # the latest state of a task wins
        try:
            db = self.db
            db.execute("BEGIN")
            try:
                if self.new_tasks:
                    db.executemany(
                        "INSERT INTO tasks (task_no, task_id, task_name) VALUES (?, ?, ?)",
                        self.new_tasks,
                    )
                if journal:
                    db.execute("INSERT INTO journal (entries) VALUES (?)", (b"".join(journal),))
                if extras:
                    db.executemany(
                        "INSERT OR REPLACE INTO extras VALUES (?, ?, ?, ?, ?, ?)", extras
                    )
                if running:
                    db.executemany(
                        "INSERT OR REPLACE INTO running VALUES (?, ?, ?, ?, ?, ?)", running
                    )
                if gone:
                    db.executemany("DELETE FROM running WHERE run_id = ?", [(k,) for k in gone])
                if skips:
                    db.executemany(f"INSERT INTO skips ({SKIP_COLUMNS}) VALUES ({marks(6)})", skips)
                if tasks:
                    db.executemany(
                        UPSERT_TASK,
                        [
                            (str(t.task_id), t.task_name, int(t.paused), stamp(t.last_fire_time))
                            for t in tasks.values()
                        ],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except Exception as error:
            self.failure = error
            logger.exception(
                "Writing %d history records to %s failed",
                len(journal) + len(running) + len(skips) + len(tasks),
                self.path,
            )
            return
        self.new_tasks.clear()
        in_running.update(row[0] for row in running)  # type: ignore[misc]
        in_running.difference_update(gone)

    # ----- checkpoints ----------------------------------------------------------------------
    def _checkpoint_guarded(self) -> None:
        try:
            self.checkpoint()
        except sqlite3.Error as error:
            self.failure = error
            logger.exception("Checkpointing the history in %s failed", self.path)

    def checkpoint(self) -> None:
        """Move each task's entries since the last checkpoint into a chunk row, empty the
        journal, record last firings and apply the retention (one transaction)."""
        size = runs.ENTRY.size
        chunks: list[tuple[int, float, float, int, int, bytes]] = []
        fires: dict[int, float] = {}
        for number, buffer in self.buffers.items():
            step = runs.CHUNK_LIMIT * size
            for first in range(0, len(buffer), step):
                part = bytes(buffer[first : first + step])
                summary = runs.summarize(part)
                chunks.append(
                    (
                        number,
                        summary.first_started,
                        summary.last_started,
                        summary.count,
                        summary.flagged,
                        part,
                    )
                )
                if summary.last_fire is not None:
                    fires[number] = max(summary.last_fire, fires.get(number, summary.last_fire))
        db = self.db
        for number, fire in db.execute(
            "SELECT task_no, MAX(scheduled_for) FROM running WHERE kind = ? GROUP BY task_no",
            (runs.SCHEDULE_CODE,),
        ):
            fires[number] = max(fire, fires.get(number, fire))
        first_id = self.next_chunk_id
        added = [
            (chunk[0], [first_id + index, chunk[2], chunk[3], chunk[4]])
            for index, chunk in enumerate(chunks)
        ]
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO chunks (id, task_no, first_started, last_started, count, flagged, "
                "entries) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(first_id + index, *chunk) for index, chunk in enumerate(chunks)],
            )
            db.executemany(
                "UPDATE tasks SET last_fire_time = MAX(COALESCE(last_fire_time, ?1), ?1) "
                "WHERE task_no = ?2",
                [(round(fire * 1e6), number) for number, fire in fires.items()],
            )
            db.execute("DELETE FROM journal")
            directory = {number: list(infos) for number, infos in self.directory.items()}
            for number, info in added:
                directory.setdefault(number, []).append(info)
            touched = set(directory) if self.prune_everything else {n for n, _ in added}
            for number in touched:
                directory[number] = self._prune_chunks(directory[number])
            self._prune_skips()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.directory = directory
        self.next_chunk_id = first_id + len(chunks)
        self.buffers.clear()
        self.prune_everything = False
        self.skips_touched.clear()

    def _prune_chunks(self, chunks: list[_ChunkInfo]) -> list[_ChunkInfo]:
        """Drop a task's chunks that hold only runs beyond its retention; returns the rest.
        A chunk goes whole, so a task keeps up to one chunk more than `max_runs` runs
        (reads still return at most `max_runs`)."""
        retention = self.store.retention
        if not chunks:
            return chunks
        oldest_kept = chunks[-1][1] - retention.max_age.total_seconds()
        kept, keep_from = 0, len(chunks)
        for index in range(len(chunks) - 1, -1, -1):
            _, last_started, count, _ = chunks[index]
            if kept >= retention.max_runs or last_started < oldest_kept:
                break
            kept += count
            keep_from = index
        dead = chunks[:keep_from]
        if dead:
            db = self.db
            for chunk_id, _, _, flagged in dead:
                if flagged:
                    (blob,) = db.execute(
                        "SELECT entries FROM chunks WHERE id = ?", (chunk_id,)
                    ).fetchone()
                    keys = [
                        (runs.entry_key(entry),)
                        for entry in runs.decode(blob)
                        if entry[runs.FLAGS] & runs.HAS_EXTRAS
                    ]
                    db.executemany("DELETE FROM extras WHERE run_id = ?", keys)
            db.executemany("DELETE FROM chunks WHERE id = ?", [(c[0],) for c in dead])
        return chunks[keep_from:]

    def _prune_skips(self) -> None:
        retention = self.store.retention
        age = retention.max_age // MICROSECOND
        db = self.db
        for task in self.skips_touched:
            db.execute(
                "DELETE FROM skips WHERE id IN (SELECT id FROM skips WHERE task_id = ?1 "
                "ORDER BY at DESC LIMIT -1 OFFSET ?2)",
                (task, retention.max_runs),
            )
            db.execute(
                "DELETE FROM skips WHERE task_id = ?1 AND at < "
                "(SELECT MAX(at) FROM skips WHERE task_id = ?1) - ?2",
                (task, age),
            )

    # ----- calls (run on this thread, in queue order) --------------------------------------
    def connect(self, app_name: str) -> None:
        self._lock()
        try:
            connection = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            self._release()
            raise unusable(self.path, error) from None
        try:
            version, _ = check_schema(connection, self.path, app_name)
            if version == 0:  # (only an empty file can still choose its page size)
                connection.execute(f"PRAGMA page_size={PAGE_SIZE}")
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process; a power cut may lose the last batch.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
            migrate(connection, version, app_name)
            self._load(connection)
        except BaseException as error:
            connection.close()
            self._release()
            if isinstance(error, sqlite3.Error):
                raise unusable(self.path, error) from None
            raise
        self.connection = connection
        if self.buffers:  # a process that died before its checkpoint: fold its journal now
            self.checkpoint()

    def _load(self, db: sqlite3.Connection) -> None:
        self.names = runs.load_names(db)
        self.numbers = {name.task_id: number for number, name in self.names.items()}
        for chunk_id, number, last_started, count, flagged in db.execute(
            "SELECT id, task_no, last_started, count, flagged FROM chunks "
            "ORDER BY task_no, last_started, id"
        ):
            self.directory.setdefault(number, []).append([chunk_id, last_started, count, flagged])
            self.next_chunk_id = max(self.next_chunk_id, chunk_id + 1)
        self.running = {key for (key,) in db.execute("SELECT run_id FROM running")}
        self.skips_touched = {task for (task,) in db.execute("SELECT DISTINCT task_id FROM skips")}
        size = runs.ENTRY.size
        for (blob,) in db.execute("SELECT entries FROM journal ORDER BY id"):
            for offset in range(0, len(blob), size):
                entry = blob[offset : offset + size]
                number = runs.ENTRY.unpack(entry)[runs.TASK]
                self.buffers.setdefault(number, bytearray()).extend(entry)

    def recent(self, only: set[int] | None) -> list[runs.Entry]:
        """Entries since the last checkpoint (of `only` tasks), oldest first per task."""
        numbers = self.buffers if only is None else only
        return [e for n in numbers for e in runs.decode(bytes(self.buffers.get(n, b"")))]

    def recent_runs(self, task_id: UUID | None, limit: int) -> list[RunRecord]:
        only = None
        if task_id is not None:
            number = self.numbers.get(task_id)
            if number is None:
                return []
            only = {number}
        recent = self.recent(only)
        return runs.select_runs(self.db, self.names, only, recent, limit, self.store.retention)

    def load_tasks(self) -> dict[UUID, TaskRecord]:
        records = query_tasks(self.db)
        fires: dict[int, float] = {}
        for entry in self.recent(None):
            if entry[runs.KIND] == runs.SCHEDULE_CODE:
                number = entry[runs.TASK]
                fires[number] = max(entry[runs.SCHEDULED], fires.get(number, 0.0))
        for number, fire in self.db.execute(
            "SELECT task_no, MAX(scheduled_for) FROM running WHERE kind = ? GROUP BY task_no",
            (runs.SCHEDULE_CODE,),
        ):
            fires[number] = max(fire, fires.get(number, fire))
        for number, fire in fires.items():
            name = self.names[number]
            known = records.get(name.task_id)
            instant = runs.instant(fire)
            if known is None:
                records[name.task_id] = TaskRecord(name.task_id, name.name, False, instant)
            elif known.last_fire_time is None or known.last_fire_time < instant:
                records[name.task_id] = replace(known, last_fire_time=instant)
        return records

    def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        """Close every run left in `running` (by a process that died) as interrupted."""
        closed = []
        for key, number, kind, scheduled, started, replica in self.db.execute(
            "SELECT run_id, task_no, kind, scheduled_for, started_at, replica FROM running "
            "ORDER BY started_at"
        ).fetchall():
            task = self.names[number]
            started_at = runs.instant(started)
            closed.append(
                RunRecord(
                    run_id=UUID(bytes=key),
                    task_id=task.task_id,
                    task_name=task.name,
                    kind=runs.KINDS[kind],
                    scheduled_for=runs.instant(scheduled),
                    started_at=started_at,
                    finished_at=at,
                    outcome=RunOutcome.INTERRUPTED,
                    duration=max(0.0, (at - started_at).total_seconds()),
                    replica=replica,
                )
            )
        if closed:
            self._write([], [], list(closed))
            if self.failure is not None:
                failure, self.failure = self.failure, None
                raise StoreError(f"Recording interrupted runs in {self.path} failed: {failure}")
        return closed

    def close(self) -> None:
        try:
            if self.connection is not None:
                self.checkpoint()
                self.connection.close()
        finally:
            self.connection = None
            self._release()
            self.closed = True

    def _lock(self) -> None:
        if fcntl is None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path, "a+b")  # noqa: SIM115 - held until close()
        except OSError:
            return  # a read-only folder: sqlite will say so more precisely
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise StoreError(
                f"{self.path} is in use by another running app (it holds {lock_path.name}): "
                "stop that process, or point the store (clocktui: --db) at another file."
            ) from None
        self.lock_file = handle

    def _release(self) -> None:
        if self.lock_file is not None:
            self.lock_file.close()  # closing the file drops the lock
            self.lock_file = None


# ----- the store ----------------------------------------------------------------------------------


class SQLiteStore(Store):
    """Keeps run history and task state in a SQLite file (WAL), so they survive restarts.

    Recording never runs SQL on the scheduler's loop: the scheduler hands its finished
    run objects to a queue (one append), and so do `record_*` and `save_task`. A writer
    thread drains the queues whenever the scheduler has no run in flight (between
    bursts of firings, so it never competes with them; at most every 20 ms) and at
    least every `batch_interval` seconds, writing each batch's runs as one packed
    journal row; every `prune_interval` seconds (and on flush and close)
    it checkpoints: each task's runs since the last checkpoint become one chunk row, the
    journal is emptied and the retention applied. The async methods run on that thread
    too, after the writes queued before them, so they never block the loop.

    Other processes may read the file meanwhile (see `SQLiteReader`); a second writer is
    refused (an advisory lock on `<file>.lock`). A corrupt or foreign file raises
    StoreError on open and is never overwritten.

    Args:
        path: The database file (created with its tables if missing; its folder must exist).
        retention: How much history to keep per task (default: 1,000 runs, 30 days).
        batch_size: Most runs written in one transaction.
        batch_interval: The longest a queued record waits to be written while runs keep
            the scheduler busy (otherwise it is written when the burst ends).
        prune_interval: Seconds between two checkpoints (runs into per-task chunks,
            retention applied).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        retention: Retention | None = None,
        *,
        batch_size: int = 10_000,
        batch_interval: float = 1.0,
        prune_interval: float = 60.0,
    ) -> None:
        if retention is not None and not isinstance(retention, Retention):
            raise TypeError(
                f"SQLiteStore(retention=...) takes a Retention, got {type(retention).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"SQLiteStore: batch_size must be an int >= 1, got {batch_size!r}")
        for name, value in (("batch_interval", batch_interval), ("prune_interval", prune_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"SQLiteStore: {name} must be seconds > 0, got {value!r}")
        self.path = Path(path)
        self.retention = retention or Retention()
        self.batch_size = batch_size
        self.batch_interval = float(batch_interval)
        self.prune_interval = float(prune_interval)
        self.app_name: str | None = None
        self.replica: str | None = None
        self._queue: deque[_Item] = deque()
        self._started: deque[Any] = deque()
        self._finished: deque[Any] = deque()
        self._writer: _Writer | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    async def _call(self, function: Callable[[_Writer], T]) -> T:
        writer = self._writer
        if writer is None or not writer.thread.is_alive():
            raise RuntimeError(f"{self!r} is not open: `await store.open(app_name)` first")
        call = _Call(function)
        self._queue.append(call)
        writer.call_waiting = True
        writer.wake.set()
        return cast(T, await asyncio.wrap_future(call.future))

    async def open(self, app_name: str) -> None:
        if self._writer is not None:
            raise RuntimeError(f"{self!r} is already open")
        writer = self._writer = _Writer(self)
        writer.thread.start()
        try:
            await self._call(lambda w: w.connect(app_name))
        except BaseException:
            writer.closed = True
            writer.wake.set()
            self._writer = None
            raise
        self.app_name = app_name

    async def close(self) -> None:
        writer = self._writer
        if writer is None:
            return
        try:
            await self._call(_Writer.close)
        finally:
            self._writer = None
        await asyncio.to_thread(writer.thread.join, 5.0)

    def run_recorders(self, replica: str | None) -> RunHooks:
        """The scheduler's run objects go straight to the writer's queues (one deque
        append each on the loop; the writer packs them)."""
        self.replica = replica
        return RunHooks(
            started=self._started.append,
            finished=self._finished.append,
            idle=self._loop_idle,
            busy=self._loop_busy,
        )

    def _loop_idle(self) -> None:
        # Write between bursts of firings, not during them: one Event.set per idle moment.
        writer = self._writer
        if writer is not None:
            writer.busy = False
            if not writer.idle:
                writer.idle = True
                writer.wake.set()

    def _loop_busy(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.busy_since = time.monotonic()
            writer.busy = True

    def record_run_started(self, record: RunRecord) -> None:
        self._queue.append(record)

    def record_run_finished(self, record: RunRecord) -> None:
        self._queue.append(record)

    def record_skip(self, record: SkipRecord) -> None:
        self._queue.append(record)

    def save_task(self, record: TaskRecord) -> None:
        self._queue.append(record)

    async def flush(self) -> None:
        """Write everything queued, checkpoint and apply the retention; raise StoreError
        if a write failed since the last flush (the failure is logged when it happens)."""

        def flush(writer: _Writer) -> None:
            writer.checkpoint()
            failure, writer.failure = writer.failure, None
            if failure is not None:
                raise StoreError(f"Writing history to {self.path} failed: {failure}")

        await self._call(flush)

    async def load_tasks(self) -> dict[UUID, TaskRecord]:
        return await self._call(_Writer.load_tasks)

    async def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        return await self._call(lambda w: w.mark_interrupted(at))

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        return await self._call(lambda w: w.recent_runs(task_id, limit))

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        retention = self.retention
        return await self._call(lambda w: query_skips(w.db, task_id, limit, retention))


class SQLiteReader:
    """Read-only access to a SQLiteStore's file (`mode=ro`), safe while a process writes.

    Args:
        path: The database file; it must exist.
        app_name: If given, the file must belong to this app.

    Raises:
        StoreError: The file is missing, corrupt, foreign or of a newer schema.
    """

    def __init__(self, path: str | os.PathLike[str], app_name: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(
                f"No history database at {self.path}: the app has not run with it yet "
                "(check the path, or run the app first)."
            )
        try:
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
        except sqlite3.Error as error:
            raise unusable(self.path, error) from None
        try:
            version, name = check_schema(self._db, self.path, app_name)
        except BaseException as error:
            self._db.close()
            if isinstance(error, sqlite3.Error):
                raise unusable(self.path, error) from None
            raise
        self.app_name = name
        self._empty = version == 0
        if not self._empty and version < SCHEMA_VERSION:
            self._db.close()
            raise StoreError(
                f"{self.path} has history schema version {version}; this version of "
                f"aioclock_core reads version {SCHEMA_VERSION}. Start the app once (it "
                "migrates the file on open), then read it again."
            )

    def __enter__(self) -> SQLiteReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _query(self, function: Callable[[sqlite3.Connection], T], empty: T) -> T:
        if self._empty:
            return empty
        db = self._db
        try:
            db.execute("BEGIN")  # one snapshot: a checkpoint moves runs between tables
            try:
                return function(db)
            finally:
                db.execute("ROLLBACK")
        except sqlite3.Error as error:
            raise unusable(self.path, error) from None

    def recent_runs(
        self, task_ids: Iterable[UUID] | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Runs newest first, of the given tasks (or of all)."""

        def query(db: sqlite3.Connection) -> list[RunRecord]:
            names = runs.load_names(db)
            only = None
            if task_ids is not None:
                wanted = set(task_ids)
                only = {number for number, name in names.items() if name.task_id in wanted}
            recent = runs.journal_entries(db)
            if only is not None:
                recent = [entry for entry in recent if entry[runs.TASK] in only]
            return runs.select_runs(db, names, only, recent, limit, None)

        return self._query(query, [])

    def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        """Skip records newest first."""
        return self._query(lambda db: query_skips(db, task_id, limit, None), [])

    def load_tasks(self) -> dict[UUID, TaskRecord]:
        """Every task's persisted state (last firings as of the writer's last checkpoint)."""
        return self._query(query_tasks, {})
