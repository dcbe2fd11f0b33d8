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
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar, Union, cast
from uuid import UUID

from aioclock_core.stores._sqlite_schema import (
    FORMAT,
    MICROSECOND,
    SCHEMA_VERSION,
    SKIP_COLUMNS,
    UPSERT_RUN,
    Row,
    check_schema,
    mark_interrupted,
    marks,
    migrate,
    query_runs,
    query_skips,
    query_tasks,
    run_row,
    skip_row,
    stamp,
    unusable,
)
from aioclock_core.stores.base import (
    Retention,
    RunRecord,
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

# ----- the writer thread -----------------------------------------------------------------------


class _Call:
    """Work for the writer thread, done in queue order (after earlier writes)."""

    __slots__ = ("function", "future")

    def __init__(self, function: Callable[[_Writer], object]) -> None:
        self.function = function
        self.future: concurrent.futures.Future[object] = concurrent.futures.Future()


_Item = Union[RunRecord, SkipRecord, TaskRecord, _Call]


class _Writer:
    """Owns the connection; drains the queue every `interval` s in transactions of at most
    `batch_size` items; prunes the tasks it wrote every `prune_interval` s."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.path = store.path
        self.queue = store._queue
        self.wake = threading.Event()
        self.connection: sqlite3.Connection | None = None
        self.lock_file: IO[bytes] | None = None
        self.touched: set[str] = set()
        self.failure: BaseException | None = None
        self.closed = False
        self.rows_written = 0
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
        try:
            while not self.closed:
                self.wake.wait(store.batch_interval)
                self.wake.clear()
                self._drain()
                if not self.closed and self.connection and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + store.prune_interval
                    self._prune_guarded()
        except BaseException:
            logger.exception("The history writer of %s stopped", self.path)
            self._release()
            raise

    def _drain(self) -> None:
        queue = self.queue
        size = self.store.batch_size
        while queue and not self.closed:
            batch: list[_Item] = []
            call = None
            while queue and len(batch) < size:
                item = queue.popleft()
                if type(item) is _Call:
                    call = item
                    break
                batch.append(item)
            if batch and self.connection is not None:
                self._write(batch)
            if call is not None:
                self._execute(call)

    def _execute(self, call: _Call) -> None:
        try:
            result = call.function(self)
        except BaseException as error:
            call.future.set_exception(error)
        else:
            call.future.set_result(result)

    def _write(self, batch: list[_Item]) -> None:
        runs: dict[UUID, RunRecord] = {}
        skips: list[Row] = []
        tasks: dict[UUID, TaskRecord] = {}
        touched = self.touched
        try:
            for item in batch:
                if type(item) is RunRecord:
                    runs[item.run_id] = item  # a run that ended in this batch: one write
                    touched.add(str(item.task_id))
                elif type(item) is SkipRecord:
                    skips.append(skip_row(item))
                    touched.add(str(item.task_id))
                elif type(item) is TaskRecord:
                    tasks.pop(item.task_id, None)
                    tasks[item.task_id] = item  # the latest state of a task wins
            task_rows = [
                (str(t.task_id), t.task_name, int(t.paused), stamp(t.last_fire_time))
                for t in tasks.values()
            ]
            db = self.db
            db.execute("BEGIN")
            try:
                # In queue order, a run's finished record replaces its started record.
                db.executemany(UPSERT_RUN, [run_row(run) for run in runs.values()])
                db.executemany(f"INSERT INTO skips ({SKIP_COLUMNS}) VALUES ({marks(6)})", skips)
                db.executemany(f"INSERT OR REPLACE INTO tasks VALUES ({marks(4)})", task_rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.rows_written += len(batch)
        except Exception as error:
            self.failure = error
            logger.exception("Writing %d history records to %s failed", len(batch), self.path)

    def _prune_guarded(self) -> None:
        try:
            self.prune()
        except sqlite3.Error as error:
            self.failure = error
            logger.exception("Pruning the history in %s failed", self.path)

    def prune(self) -> None:
        """Apply the retention to every task written since the last prune (one transaction)."""
        if not self.touched:
            return
        retention = self.store.retention
        age = retention.max_age // MICROSECOND
        db = self.db
        db.execute("BEGIN")
        for task in self.touched:
            for table, key, when in (("runs", "run_id", "started_at"), ("skips", "id", "at")):
                db.execute(
                    f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "
                    f"WHERE task_id = ?1 ORDER BY {when} DESC LIMIT -1 OFFSET ?2)",
                    (task, retention.max_runs),
                )
                db.execute(
                    f"DELETE FROM {table} WHERE task_id = ?1 AND {when} < "
                    f"(SELECT MAX({when}) FROM {table} WHERE task_id = ?1) - ?2",
                    (task, age),
                )
        db.execute("COMMIT")
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
            self.touched.update(
                task
                for (task,) in connection.execute(
                    "SELECT DISTINCT task_id FROM runs UNION SELECT DISTINCT task_id FROM skips"
                )
            )
        except BaseException as error:
            connection.close()
            self._release()
            if isinstance(error, sqlite3.Error):
                raise unusable(self.path, error) from None
            raise
        self.connection = connection

    def close(self) -> None:
        try:
            if self.connection is not None:
                self.prune()
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

    `record_*` and `save_task` only append to a queue (no SQL, no formatting on the
    scheduler's loop). A writer thread drains it every `batch_interval` seconds, at most
    `batch_size` items per transaction, and applies the retention to the tasks it wrote
    every `prune_interval` seconds (and on flush and close). The async methods run on that
    thread too, after the writes queued before them, so they never block the loop.

    Other processes may read the file meanwhile (see `SQLiteReader`); a second writer is
    refused (an advisory lock on `<file>.lock`). A corrupt or foreign file raises
    StoreError on open and is never overwritten.

    Args:
        path: The database file (created with its tables if missing; its folder must exist).
        retention: How much history to keep per task (default: 1,000 runs, 30 days).
        batch_size: Most queued items written in one transaction.
        batch_interval: Seconds between two drains of the queue.
        prune_interval: Seconds between two applications of the retention.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        retention: Retention | None = None,
        *,
        batch_size: int = 500,
        batch_interval: float = 0.05,
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

    def record_run_started(self, record: RunRecord) -> None:
        self._queue.append(record)

    def record_run_finished(self, record: RunRecord) -> None:
        self._queue.append(record)

    def record_skip(self, record: SkipRecord) -> None:
        self._queue.append(record)

    def save_task(self, record: TaskRecord) -> None:
        self._queue.append(record)

    async def flush(self) -> None:
        """Write everything queued and apply the retention; raise StoreError if a write
        failed since the last flush (the failure is logged when it happens too)."""

        def flush(writer: _Writer) -> None:
            writer.prune()
            failure, writer.failure = writer.failure, None
            if failure is not None:
                raise StoreError(f"Writing history to {self.path} failed: {failure}")

        await self._call(flush)

    async def load_tasks(self) -> dict[UUID, TaskRecord]:
        return await self._call(lambda w: query_tasks(w.db))

    async def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        return await self._call(lambda w: mark_interrupted(w.db, at))

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        retention = self.retention
        return await self._call(lambda w: query_runs(w.db, task_id, limit, retention))

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        retention = self.retention
        return await self._call(lambda w: query_skips(w.db, task_id, limit, retention))

    @property
    def rows_written(self) -> int:
        """Records written since open (for measurements)."""
        return self._writer.rows_written if self._writer else 0


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
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
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
        try:
            return function(self._db)
        except sqlite3.Error as error:
            raise unusable(self.path, error) from None

    def recent_runs(
        self, task_ids: Iterable[UUID] | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Runs newest first, of the given tasks (or of all)."""

        def query(db: sqlite3.Connection) -> list[RunRecord]:
            if task_ids is None:
                return query_runs(db, None, limit, None)
            runs = [run for task in task_ids for run in query_runs(db, task, limit, None)]
            runs.sort(key=lambda run: run.started_at, reverse=True)
            return runs[:limit]

        return self._query(query, [])

    def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        """Skip records newest first."""
        return self._query(lambda db: query_skips(db, task_id, limit, None), [])

    def load_tasks(self) -> dict[UUID, TaskRecord]:
        """Every task's persisted state."""
        return self._query(query_tasks, {})
