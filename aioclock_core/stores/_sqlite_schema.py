"""The SQLite history schema: versions and migrations, file checks, rows <-> records, queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from aioclock_core.events import RunKind, RunOutcome, SkipReason
from aioclock_core.stores.base import Retention, RunRecord, SkipRecord, StoreError, TaskRecord

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
FORMAT = "aioclock history"
"""The `meta.format` value that marks a file as ours."""

# ----- schema and migrations -------------------------------------------------------------

VERSION_1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, task_id TEXT NOT NULL, task_name TEXT NOT NULL,
        kind TEXT NOT NULL, scheduled_for INTEGER NOT NULL, started_at INTEGER NOT NULL,
        finished_at INTEGER, outcome TEXT, duration REAL, error_type TEXT,
        error_message TEXT, traceback TEXT, replica TEXT)""",
    "CREATE INDEX runs_by_task ON runs (task_id, started_at)",
    "CREATE INDEX runs_by_time ON runs (started_at)",
    "CREATE INDEX runs_in_progress ON runs (started_at) WHERE outcome IS NULL",
    """CREATE TABLE skips (
        id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, task_name TEXT NOT NULL,
        scheduled_for INTEGER NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
        at INTEGER NOT NULL)""",
    "CREATE INDEX skips_by_task ON skips (task_id, at)",
    "CREATE INDEX skips_by_time ON skips (at)",
    """CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY, task_name TEXT NOT NULL, paused INTEGER NOT NULL,
        last_fire_time INTEGER)""",
)


def create_version_1(connection: sqlite3.Connection) -> None:
    for statement in VERSION_1:
        connection.execute(statement)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: create_version_1}
"""`MIGRATIONS[n]` turns a version n-1 database into version n (0: an empty file). Add
version 2 here; files are migrated on open, in one transaction."""
SCHEMA_VERSION = max(MIGRATIONS)
"""The schema version this code writes."""


def to_micros(instant: datetime) -> int:
    if instant.tzinfo is None:  # the scheduler's instants are aware; be lenient with callers
        instant = instant.replace(tzinfo=UTC)
    return (instant - _EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def table_names(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def foreign(path: Path, tables: list[str]) -> StoreError:
    return StoreError(
        f"{path} is not an aioclock history database (it has tables: {', '.join(tables)}); "
        "it was left untouched. Point the store (clocktui: --db) at another file, or move "
        "this one away."
    )


def check_schema(
    connection: sqlite3.Connection, path: Path, app_name: str | None
) -> tuple[int, str | None]:
    """Validate an existing file; returns its schema version (0: empty) and app name."""
    tables = table_names(connection)
    if not tables:
        return 0, None
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError:  # no meta table, or a foreign one
        raise foreign(path, tables) from None
    version = str(meta.get("schema_version", ""))
    if meta.get("format") != FORMAT or not version.isdigit():
        raise foreign(path, tables)
    if int(version) > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has history schema version {version}, newer than this version of "
            f"aioclock_core reads ({SCHEMA_VERSION}): upgrade clocktui/aioclock_core, or "
            "point the store (clocktui: --db) at another file."
        )
    stored_name = meta.get("app_name")
    if app_name is not None and stored_name is not None and stored_name != app_name:
        raise StoreError(
            f"{path} holds the history of the app {stored_name!r}, not {app_name!r}: point "
            "the store (clocktui: --db) at another file, or give the app "
            f"name={stored_name!r}."
        )
    return int(version), stored_name


def migrate(connection: sqlite3.Connection, version: int, app_name: str) -> None:
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](connection)
        meta = {"format": FORMAT, "schema_version": str(SCHEMA_VERSION)}
        if version == 0:
            meta["app_name"] = app_name
        connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def unusable(path: Path, error: sqlite3.Error) -> StoreError:
    if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
        return StoreError(
            f"Cannot open {path} ({error}): check that its folder exists and is writable, "
            "or point the store (clocktui: --db) at another file."
        )
    return StoreError(
        f"{path} is corrupt ({error}); it was left untouched. Move it away (or restore a "
        "backup) and start again, or point the store (clocktui: --db) at another file."
    )


# ----- rows <-> records ---------------------------------------------------------------------

RUN_COLUMNS = (
    "run_id, task_id, task_name, kind, scheduled_for, started_at, finished_at, outcome, "
    "duration, error_type, error_message, traceback, replica"
)
UPSERT_RUN = (
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 13)}) "
    "ON CONFLICT (run_id) DO UPDATE SET finished_at = excluded.finished_at, "
    "outcome = excluded.outcome, duration = excluded.duration, "
    "error_type = excluded.error_type, error_message = excluded.error_message, "
    "traceback = excluded.traceback"
)
"""A run's finished record updates its started row in place (its indexed columns stay)."""
SKIP_COLUMNS = "task_id, task_name, scheduled_for, reason, count, at"
Row = tuple[object, ...]


def run_row(record: RunRecord) -> Row:
    finished = record.finished_at
    return (
        str(record.run_id),
        str(record.task_id),
        record.task_name,
        record.kind.value,
        to_micros(record.scheduled_for),
        to_micros(record.started_at),
        None if finished is None else to_micros(finished),
        None if record.outcome is None else record.outcome.value,
        record.duration,
        record.error_type,
        record.error_message,
        record.traceback,
        record.replica,
    )


def run_record(row: tuple[Any, ...]) -> RunRecord:
    (run_id, task_id, name, kind, scheduled, started, finished, outcome, *rest) = row
    duration, error_type, error_message, traceback, replica = rest
    return RunRecord(
        run_id=UUID(run_id),
        task_id=UUID(task_id),
        task_name=name,
        kind=RunKind(kind),
        scheduled_for=from_micros(scheduled),
        started_at=from_micros(started),
        finished_at=None if finished is None else from_micros(finished),
        outcome=None if outcome is None else RunOutcome(outcome),
        duration=duration,
        error_type=error_type,
        error_message=error_message,
        traceback=traceback,
        replica=replica,
    )


def skip_row(record: SkipRecord) -> Row:
    return (
        str(record.task_id),
        record.task_name,
        to_micros(record.scheduled_for),
        record.reason.value,
        record.count,
        to_micros(record.at),
    )


def skip_record(row: tuple[Any, ...]) -> SkipRecord:
    task_id, name, scheduled, reason, count, at = row
    return SkipRecord(
        task_id=UUID(task_id),
        task_name=name,
        scheduled_for=from_micros(scheduled),
        reason=SkipReason(reason),
        count=count,
        at=from_micros(at),
    )


# ----- queries shared by the store (writer thread) and the reader ----------------------------


def query_runs(
    connection: sqlite3.Connection,
    task_id: UUID | None,
    limit: int,
    retention: Retention | None,
) -> list[RunRecord]:
    """Newest first; with `retention`, those a prune would keep (count per task, and no
    older than `max_age` before the newest run queried)."""
    where, params = ("WHERE task_id = ?", [str(task_id)]) if task_id else ("", [])
    if retention is not None:
        if task_id:
            limit = min(limit, retention.max_runs)
        (newest,) = connection.execute(
            f"SELECT MAX(started_at) FROM runs {where}", params
        ).fetchone()
        if newest is not None:
            where = f"{where} {'AND' if where else 'WHERE'} started_at >= ?"
            params.append(newest - retention.max_age // MICROSECOND)
    rows = connection.execute(
        f"SELECT {RUN_COLUMNS} FROM runs {where} ORDER BY started_at DESC, rowid DESC LIMIT ?",
        [*params, limit],
    )
    return [run_record(row) for row in rows]


def query_skips(
    connection: sqlite3.Connection, task_id: UUID | None, limit: int, retention: Retention | None
) -> list[SkipRecord]:
    """Skip records, newest first."""
    where, params = ("WHERE task_id = ?", [str(task_id)]) if task_id else ("", [])
    if retention is not None and task_id:
        limit = min(limit, retention.max_runs)
    rows = connection.execute(
        f"SELECT {SKIP_COLUMNS} FROM skips {where} ORDER BY at DESC, id DESC LIMIT ?",
        [*params, limit],
    )
    return [skip_record(row) for row in rows]


def query_tasks(connection: sqlite3.Connection) -> dict[UUID, TaskRecord]:
    """Every task's persisted state."""
    records = {}
    for task_id, name, paused, last_fire in connection.execute(
        "SELECT task_id, task_name, paused, last_fire_time FROM tasks"
    ):
        uuid = UUID(task_id)
        records[uuid] = TaskRecord(uuid, name, bool(paused), stamp_to_instant(last_fire))
    return records


def stamp(instant: datetime | None) -> int | None:
    return None if instant is None else to_micros(instant)


def stamp_to_instant(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def marks(count: int) -> str:
    return ", ".join("?" * count)


def mark_interrupted(db: sqlite3.Connection, at: datetime) -> list[RunRecord]:
    """Close every run still in progress as interrupted at `at`; return them closed."""
    at_micros = to_micros(at)
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE outcome IS NULL").fetchall()
        db.execute(
            "UPDATE runs SET outcome = ?, finished_at = ?, "
            "duration = MAX(0, (? - started_at) / 1e6) WHERE outcome IS NULL",
            (RunOutcome.INTERRUPTED.value, at_micros, at_micros),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return [
        replace(
            run_record(row),
            finished_at=at,
            outcome=RunOutcome.INTERRUPTED,
            duration=max(0.0, (at_micros - row[5]) / 1e6),
        )
        for row in rows
    ]
