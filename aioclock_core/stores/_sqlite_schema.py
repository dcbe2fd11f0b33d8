"""The SQLite history schema: versions and migrations, file checks, rows <-> records, queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from aioclock_core.events import RunKind, RunOutcome, SkipReason
from aioclock_core.stores import _sqlite_runs as runs
from aioclock_core.stores.base import Retention, SkipRecord, StoreError, TaskRecord

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


VERSION_2 = (
    """CREATE TABLE tasks_v2 (
        task_no INTEGER PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, task_name TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0, last_fire_time INTEGER)""",
    """INSERT INTO tasks_v2 (task_id, task_name, paused, last_fire_time)
        SELECT task_id, task_name, paused, last_fire_time FROM tasks""",
    """INSERT OR IGNORE INTO tasks_v2 (task_id, task_name)
        SELECT task_id, MAX(task_name) FROM runs GROUP BY task_id""",
    "DROP TABLE tasks",
    "ALTER TABLE tasks_v2 RENAME TO tasks",
    """CREATE TABLE chunks (
        id INTEGER PRIMARY KEY, task_no INTEGER NOT NULL, first_started REAL NOT NULL,
        last_started REAL NOT NULL, count INTEGER NOT NULL, flagged INTEGER NOT NULL,
        entries BLOB NOT NULL)""",
    "CREATE INDEX chunks_by_task ON chunks (task_no, last_started)",
    "CREATE INDEX chunks_by_time ON chunks (last_started)",
    "CREATE TABLE journal (id INTEGER PRIMARY KEY, entries BLOB NOT NULL)",
    """CREATE TABLE running (
        run_id BLOB PRIMARY KEY, task_no INTEGER NOT NULL, kind INTEGER NOT NULL,
        scheduled_for REAL NOT NULL, started_at REAL NOT NULL, replica TEXT)""",
    """CREATE TABLE extras (
        run_id BLOB PRIMARY KEY, error_type TEXT, error_message TEXT, traceback TEXT,
        replica TEXT, finished_at REAL)""",
)


def create_version_2(connection: sqlite3.Connection) -> None:
    """Version 2 packs runs (see `_sqlite_runs`): one row per run made recording cost
    more than the firing itself. The runs of a version 1 file move into chunks."""
    for statement in VERSION_2:
        connection.execute(statement)
    numbers = dict(connection.execute("SELECT task_id, task_no FROM tasks"))
    rows = connection.execute(
        "SELECT run_id, task_id, kind, scheduled_for, started_at, finished_at, outcome, "
        "duration, error_type, error_message, traceback, replica FROM runs "
        "ORDER BY task_id, started_at, rowid"
    ).fetchall()
    chunk: list[bytes] = []
    chunk_task: int | None = None
    starts: list[float] = []
    flagged = 0

    def write_chunk() -> None:
        if chunk:
            connection.execute(
                "INSERT INTO chunks (task_no, first_started, last_started, count, flagged, "
                "entries) VALUES (?, ?, ?, ?, ?, ?)",
                (chunk_task, min(starts), max(starts), len(chunk), flagged, b"".join(chunk)),
            )
        chunk.clear()
        starts.clear()

    for row in rows:
        run_id, task_id, kind, scheduled, started, finished, outcome, duration, *more = row
        task_no = numbers[task_id]
        key = UUID(run_id).bytes
        kind_code = runs.KINDS.index(RunKind(kind))
        if outcome is None:
            connection.execute(
                "INSERT INTO running VALUES (?, ?, ?, ?, ?, ?)",
                (key, task_no, kind_code, scheduled / 1e6, started / 1e6, more[3]),
            )
            continue
        if task_no != chunk_task or len(chunk) >= runs.CHUNK_LIMIT:
            write_chunk()
            chunk_task, flagged = task_no, 0
        flags = 0
        if duration is None:
            duration = max(0.0, ((finished or started) - started) / 1e6)
        end = None if finished is None or finished == started + round(duration * 1e6) else finished
        if end is not None or any(value is not None for value in more):
            flags = runs.HAS_EXTRAS
            flagged += 1
            connection.execute(
                "INSERT INTO extras VALUES (?, ?, ?, ?, ?, ?)",
                (key, *more, None if end is None else end / 1e6),
            )
        number = int.from_bytes(key, "big")
        chunk.append(
            runs.ENTRY.pack(
                started / 1e6,
                scheduled / 1e6,
                duration,
                number >> 64,
                number & runs.LOW64,
                task_no,
                kind_code,
                runs.OUTCOMES.index(RunOutcome(outcome)),
                flags,
            )
        )
        starts.append(started / 1e6)
    write_chunk()
    connection.execute("DROP TABLE runs")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: create_version_1,
    2: create_version_2,
}
"""`MIGRATIONS[n]` turns a version n-1 database into version n (0: an empty file). Add
version 3 here; files are migrated on open, in one transaction."""
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

SKIP_COLUMNS = "task_id, task_name, scheduled_for, reason, count, at"
Row = tuple[object, ...]


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
    """Every task's persisted state (tasks only numbered for their runs have none)."""
    records = {}
    for task_id, name, paused, last_fire in connection.execute(
        "SELECT task_id, task_name, paused, last_fire_time FROM tasks "
        "WHERE paused OR last_fire_time IS NOT NULL"
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
