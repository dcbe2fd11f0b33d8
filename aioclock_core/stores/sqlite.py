"""SQLiteStore: run history and task state in a SQLite file of plain rows, written by one
batching thread; SQLiteReader: the same file, read-only, from any process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, Union, cast
from uuid import UUID

from aioclock_core.runs import RunOutcome, RunRecord
from aioclock_core.stores._sqlite_schema import (
    FORMAT,
    SCHEMA_VERSION,
    SKIP_COLUMNS,
    UPSERT_TASK,
    RowTexts,
    check_schema,
    iso,
    migrate,
    parse,
    query_runs,
    query_skips,
    query_tasks,
    query_unfinished,
    skip_row,
    task_row,
    unusable,
    write_runs,
)
from aioclock_core.stores.base import (
    Retention,
    SkipRecord,
    Store,
    StoreError,
    TaskRecord,
)

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; one writer per file is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["SQLiteStore", "SQLiteReader", "SCHEMA_VERSION", "FORMAT"]

logger = logging.getLogger("aioclock.store")
T = TypeVar("T")


class _Call:
    """Work for the writer thread, done in queue order (after earlier writes)."""

    __slots__ = ("function", "future")

    def __init__(self, function: Callable[[_Writer], object]) -> None:
        self.function = function
        self.future: concurrent.futures.Future[object] = concurrent.futures.Future()


_Item = Union[Sequence[RunRecord], SkipRecord, TaskRecord, _Call]

MAX_WAITING = 200_000
"""Records kept for a retry while the file cannot be written; older ones are dropped
(and counted in `SQLiteStore.lost`)."""


class _Writer:
    """Owns the connection. Every `batch_interval` s it writes what was queued in one
    transaction, at the end of a burst of firings (or mid-burst once the scheduler has
    been busy for a whole `batch_interval`), and every `prune_interval` s applies the
    retention to the tasks that got runs."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.path = store.path
        self.queue = store._queue
        self.wake = threading.Event()
        self.idle = False  # the scheduler signalled a moment without runs in flight
        self.busy = False  # runs are in flight (a burst), since busy_since
        self.busy_since = 0.0
        self.call_waiting = False
        self.connection: sqlite3.Connection | None = None
        self.lock_fd: int | None = None
        self.closed = False
        self.in_flight: dict[UUID, RunRecord] = {}
        """Runs that started and have not ended, as far as the writer has seen."""
        self.in_flight_written: set[UUID] = set()
        """Those of them that have a row (without outcome) in the file."""
        self.waiting: list[Any] = []
        """Records of a failed write, tried again first."""
        self.touched: set[UUID] = set()
        """Tasks with runs written since the retention was last applied."""
        self.texts = RowTexts()
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
        next_prune = time.monotonic() + store.prune_interval
        last_drain = time.monotonic()
        try:
            while not self.closed:
                self.wake.wait(self._time_to_write(last_drain))
                self.wake.clear()
                self.idle = False
                if not self.call_waiting and self._time_to_write(last_drain) > 0:
                    continue  # woken by a burst's end before the batch is due
                self.call_waiting = False
                self._drain()
                last_drain = time.monotonic()
                if not self.closed and self.connection and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + store.prune_interval
                    self._prune_guarded()
        except BaseException:
            logger.exception("The history writer of %s stopped", self.path)
            self._release()
            raise

    def _time_to_write(self, last_drain: float) -> float:
        """Seconds until the next batch is due (0: now): `batch_interval` after the last
        one, at the end of a burst of firings, or mid-burst once the scheduler has been
        busy for a whole `batch_interval`."""
        interval = self.store.batch_interval
        due = last_drain + interval
        if self.busy:
            due = max(due, self.busy_since + interval)
        return max(0.0, due - time.monotonic())

    def _drain(self) -> None:
        """Write what was queued when the batch began; a call runs after every write queued
        before it. What the scheduler queues meanwhile waits for the next batch (a call
        that opens the file would otherwise let the first records after it jump the
        batch interval)."""
        queue = self.queue
        left = len(queue)
        while not self.closed:
            items: list[Any] = []
            call = None
            while left:
                left -= 1
                item = queue.popleft()
                if type(item) is _Call:
                    call = item
                    break
                items.append(item)
            if (items or self.waiting) and self.connection is not None:
                self._write(items)
            if call is None:
                return
            self._execute(call)

    def _execute(self, call: _Call) -> None:
        try:
            result = call.function(self)
        except BaseException as error:
            call.future.set_exception(error)
        else:
            call.future.set_result(result)

    def _write(self, items: list[Any]) -> None:
        """One transaction: finished runs, runs still going, skips and task states."""
        items = [*self.waiting, *items]
        runs: list[RunRecord] = []
        skips: list[SkipRecord] = []
        tasks: dict[UUID, TaskRecord] = {}
        in_flight = self.in_flight
        for item in items:
            if isinstance(item, SkipRecord):
                skips.append(item)
            elif isinstance(item, TaskRecord):
                tasks.pop(item.task_id, None)
                tasks[item.task_id] = item  # the latest state of a task wins
            else:
                for run in item:
                    if run.outcome is None:
                        in_flight[run.run_id] = run
                    else:
                        in_flight.pop(run.run_id, None)
                        runs.append(run)
        # A run that ended already needs no row of its own while going.
        going = [run for key, run in in_flight.items() if key not in self.in_flight_written]
        try:
            db = self.db
            db.execute("BEGIN")
            try:
                write_runs(db, [*going, *runs], self.texts)
                if skips:
                    db.executemany(
                        f"INSERT INTO skips ({SKIP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                        [skip_row(skip) for skip in skips],
                    )
                if tasks:
                    db.executemany(UPSERT_TASK, [task_row(task) for task in tasks.values()])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            self._keep_for_retry(items, error)
            return
        if self.waiting:
            logger.warning("History is being written to %s again", self.path)
        self.waiting = []
        self.store.failure = None
        self.in_flight_written.update(run.run_id for run in going)
        self.in_flight_written.difference_update(run.run_id for run in runs)
        self.touched.update(run.task_id for run in runs)

    def _keep_for_retry(self, items: list[Any], error: sqlite3.Error) -> None:
        """A write failed (read-only file, full disk): say so once, keep the records and
        try them again with the next batch; beyond MAX_WAITING the oldest are dropped."""
        store = self.store
        if store.failure is None:
            logger.error(
                "Cannot write history to %s (%s); retrying with every batch, the runs wait "
                "in memory (up to %d records)",
                self.path,
                error,
                MAX_WAITING,
            )
        store.failure = error
        waiting: list[Any] = []
        for item in items:  # runs in flight are in `in_flight` already: keep only the ended
            if isinstance(item, (SkipRecord, TaskRecord)):
                waiting.append(item)
            else:
                ended = [run for run in item if run.outcome is not None]
                if ended:
                    waiting.append(ended)
        count = sum(1 if isinstance(i, (SkipRecord, TaskRecord)) else len(i) for i in waiting)
        while count > MAX_WAITING and waiting:
            dropped = waiting.pop(0)
            size = 1 if isinstance(dropped, (SkipRecord, TaskRecord)) else len(dropped)
            count -= size
            store.lost += size
        self.waiting = waiting

    # ----- retention -------------------------------------------------------------------------
    def _prune_guarded(self) -> None:
        try:
            self.prune()
        except sqlite3.Error as error:
            logger.error("Applying the history retention in %s failed: %s", self.path, error)

    def prune(self, everything: bool = False) -> None:
        """Drop, for each task that got runs since the last time (or every task), its
        finished runs beyond `max_runs` and older than `max_age` before its newest run,
        with their log lines; and skips the same way."""
        retention = self.store.retention
        db = self.db
        tasks = (
            [task for (task,) in db.execute("SELECT DISTINCT task_id FROM runs")]
            if everything
            else [str(task) for task in self.touched]
        )
        skip_tasks = [task for (task,) in db.execute("SELECT DISTINCT task_id FROM skips")]
        db.execute("BEGIN")
        try:
            for task in tasks:
                newest = db.execute(
                    "SELECT MAX(started_at) FROM runs WHERE task_id = ?", (task,)
                ).fetchone()[0]
                if newest is None:
                    continue
                cutoff = iso(parse(newest) - retention.max_age)
                doomed = (
                    "SELECT run_id FROM runs WHERE task_id = ?1 AND outcome IS NOT NULL AND "
                    "(started_at < ?2 OR rowid IN (SELECT rowid FROM runs WHERE task_id = ?1 "
                    "ORDER BY started_at DESC, rowid DESC LIMIT -1 OFFSET ?3))"
                )
                params = (task, cutoff, retention.max_runs)
                db.execute(f"DELETE FROM run_logs WHERE run_id IN ({doomed})", params)
                db.execute(f"DELETE FROM runs WHERE run_id IN ({doomed})", params)
            for task in skip_tasks:
                db.execute(
                    "DELETE FROM skips WHERE id IN (SELECT id FROM skips WHERE task_id = ?1 "
                    "ORDER BY at DESC, id DESC LIMIT -1 OFFSET ?2)",
                    (task, retention.max_runs),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.touched.clear()

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
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process; a power cut may lose the last batch.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
            migrate(connection, version, app_name)
            connection.execute(
                "INSERT OR REPLACE INTO meta VALUES ('writer_pid', ?)", (str(os.getpid()),)
            )
            # Into the file itself, so that an opener through a hard link (whose WAL
            # would be another file) reads who holds it.
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except BaseException as error:
            connection.close()
            self._release()
            if isinstance(error, sqlite3.Error):
                raise unusable(self.path, error) from None
            raise
        self.connection = connection

    def recent_runs(self, task_id: UUID | None, limit: int) -> list[RunRecord]:
        tasks = None if task_id is None else [task_id]
        return query_runs(self.db, tasks, limit, self.store.retention)

    def load_tasks(self) -> dict[UUID, TaskRecord]:
        return query_tasks(self.db)

    def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        """Close every run a dead process left without outcome as interrupted."""
        left = [run for run in query_unfinished(self.db) if run.run_id not in self.in_flight]
        closed = []
        for run in left:
            duration = max(0.0, (at - run.started_at).total_seconds())
            closed.append(
                replace(run, ended_at=at, duration=duration, outcome=RunOutcome.INTERRUPTED)
            )
        if closed:
            self._write([closed])
            if self.store.failure is not None:
                raise StoreError(
                    f"Recording interrupted runs in {self.path} failed: {self.store.failure}"
                )
        return closed

    def close(self) -> None:
        try:
            if self.connection is not None:
                self._drain()
                if self.waiting:  # the last tries failed too: these are lost
                    self.store.lost += sum(
                        1 if isinstance(item, (SkipRecord, TaskRecord)) else len(item)
                        for item in self.waiting
                    )
                    self.waiting = []
                    logger.error(
                        "%d history records could not be written to %s before it closed (%s)",
                        self.store.lost,
                        self.path,
                        self.store.failure,
                    )
                else:
                    self._prune_guarded()
                self.connection.close()
        finally:
            self.connection = None
            self._release()
            self.closed = True

    def _lock(self) -> None:
        """Take an advisory lock on the database file itself, so that a second writer is
        refused whatever name it opens the file by (a symlink, a hard link)."""
        if fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # a missing or read-only folder: sqlite will say so more precisely
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # flock (BSD) locks are apart from SQLite's own (POSIX) locks, but closing any
            # descriptor of the file drops this process's POSIX locks on it: a second
            # store in the same process on the same file is refused here, before its
            # connection exists, so only this descriptor is closed.
            os.close(fd)
            holder = _writer_pid(self.path)
            raise StoreError(
                f"{self.path} is in use by another running app"
                + (f" (pid {holder})" if holder else "")
                + ": stop that process, or point the store (clocktui: --db) at another file."
            ) from None
        self.lock_fd = fd

    def _release(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # closing the descriptor drops the lock
            self.lock_fd = None


def _writer_pid(path: Path) -> str | None:
    """The pid the file's current writer recorded, if it can be read."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'writer_pid'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


# ----- the store ----------------------------------------------------------------------------------


class SQLiteStore(Store):
    """Keeps run history and task state in a SQLite file (WAL) of plain rows, so they
    survive restarts and anyone can query them with `sqlite3` (docs/history.md).

    Recording never runs SQL on the scheduler's loop: each batch of runs the scheduler
    delivers is one deque append. A writer thread writes what is queued every
    `batch_interval` seconds, one transaction per batch, at a moment the scheduler has no
    run in flight (between bursts of firings, so it never competes with them; mid-burst
    only if the scheduler has been busy for a whole `batch_interval`); every
    `prune_interval` seconds (and on close) it applies the retention. The async methods
    run on that thread too, at once, after the writes queued before them, so they never
    block the loop and always see every run delivered before them.

    A process killed (`kill -9`, a crash) loses the runs that ended since the last batch:
    at most `batch_interval` seconds of them (two if the scheduler is never idle); a
    close, `flush()` or `serve()` ending writes everything. Why 5 s: each batch touches
    one page of the per-task index for every task that ran: with 1,000 tasks firing every
    second, recording a run cost about 30 µs of CPU with a batch every second and 21 µs
    with one every 5 s (benchmark: "History: the cost of recording every run"). Lower
    it to lose less in a crash, or for other processes (`clocktui history`) to see runs
    sooner.

    Other processes may read the file meanwhile (see `SQLiteReader`); a second writer is
    refused (an advisory lock on the file itself). A corrupt or foreign file raises
    StoreError on open and is never overwritten. While the file cannot be written (read
    only, disk full) the error is logged once, `failure` holds it, and the runs wait in
    memory and are written when it can be again.

    Args:
        path: The database file (created with its tables if missing; its folder must exist).
        retention: How much history to keep per task (default: 1,000 runs, 30 days).
        batch_interval: Seconds between two batches written (what a killed process can
            lose at most; see above).
        prune_interval: Seconds between two passes of the retention.
    """

    derives_last_firing = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        retention: Retention | None = None,
        *,
        batch_interval: float = 5.0,
        prune_interval: float = 60.0,
    ) -> None:
        if retention is not None and not isinstance(retention, Retention):
            raise TypeError(
                f"SQLiteStore(retention=...) takes a Retention, got {type(retention).__name__}"
            )
        for name, value in (("batch_interval", batch_interval), ("prune_interval", prune_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"SQLiteStore: {name} must be seconds > 0, got {value!r}")
        self.path = Path(path)
        self.retention = retention or Retention()
        self.batch_interval = float(batch_interval)
        self.prune_interval = float(prune_interval)
        self.app_name: str | None = None
        self.failure: BaseException | None = None
        """The error of the last write, while writes fail (None once one succeeds)."""
        self.lost = 0
        """Records dropped because the file could not be written for too long."""
        self._queue: deque[_Item] = deque()
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

    # ----- on the scheduler's loop: queue and return ------------------------------------------
    @property
    def wants_every_start(self) -> bool:
        # A run that ended within the scheduler's batch needs no row while going.
        return False

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self._queue.append(runs)

    def idle(self) -> None:
        # Write between bursts of firings, not during them: one Event.set per idle moment.
        writer = self._writer
        if writer is not None:
            writer.busy = False
            if not writer.idle:
                writer.idle = True
                writer.wake.set()

    def busy(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.busy_since = time.monotonic()
            writer.busy = True

    def record_skip(self, record: SkipRecord) -> None:
        self._queue.append(record)

    def save_task(self, record: TaskRecord) -> None:
        self._queue.append(record)

    # ----- reads and flush (on the writer's thread) -------------------------------------------
    async def flush(self) -> None:
        """Write everything queued and apply the retention; raise StoreError if the file
        cannot be written (the records stay queued for the next try)."""

        def flush(writer: _Writer) -> None:
            writer._prune_guarded()
            if self.failure is not None:
                raise StoreError(f"Writing history to {self.path} failed: {self.failure}")

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
        StoreError: The file is missing, corrupt, foreign or of another schema version.
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
            db.execute("BEGIN")  # one snapshot across the queries of one read
            try:
                return function(db)
            finally:
                db.execute("ROLLBACK")
        except sqlite3.Error as error:
            raise unusable(self.path, error) from None

    def recent_runs(
        self, task_ids: Iterable[UUID] | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Runs newest first (with their log lines), of the given tasks (or of all)."""
        tasks = None if task_ids is None else list(task_ids)
        return self._query(lambda db: query_runs(db, tasks, limit, None), [])

    def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        """Skip records newest first."""
        return self._query(lambda db: query_skips(db, task_id, limit, None), [])

    def load_tasks(self) -> dict[UUID, TaskRecord]:
        """Every task's persisted state."""
        return self._query(query_tasks, {})
