"""The SQLite history schema (version 3: plain rows), migrations, file checks, rows <->
records, and the queries shared by the store's writer and `SQLiteReader`.

Times are ISO-8601 UTC text (``2026-12-02T06:50:26.123456+00:00``), so SQLite's date
functions work on them and they sort as they read. docs/history.md documents the tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from aioclock_core.events import SkipReason
from aioclock_core.runs import LogLine, RunKind, RunOutcome, RunRecord
from aioclock_core.stores.base import Retention, SkipRecord, StoreError, TaskRecord

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORMAT = "aioclock history"
"""The `meta.format` value that marks a file as ours."""
SCHEMA_VERSION = 3
"""The schema version this code writes (1 and 2 are migrated on open)."""

# ----- the schema ---------------------------------------------------------------------------

RUN_COLUMNS = (
    "run_id, task_id, task_name, kind, scheduled_for, started_at, ended_at, duration, "
    "outcome, error_type, error, traceback, result, attempt, replica"
)
SKIP_COLUMNS = "task_id, task_name, scheduled_for, reason, count, at"

VERSION_3 = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        run_id TEXT NOT NULL UNIQUE,
        task_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        scheduled_for TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration REAL,
        outcome TEXT,
        error_type TEXT,
        error TEXT,
        traceback TEXT,
        result TEXT,
        attempt INTEGER NOT NULL DEFAULT 1,
        replica TEXT)""",
    "CREATE INDEX runs_by_task ON runs (task_id, started_at)",
    "CREATE INDEX runs_by_time ON runs (started_at)",
    """CREATE TABLE run_logs (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)) WITHOUT ROWID""",
    """CREATE TABLE skips (
        id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, task_name TEXT NOT NULL,
        scheduled_for TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
        at TEXT NOT NULL)""",
    "CREATE INDEX skips_by_task ON skips (task_id, at)",
    """CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY, task_name TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0,
        last_fire_time TEXT)""",
)

INSERT_RUN = (
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 15)}) "
    "ON CONFLICT (run_id) DO UPDATE SET ended_at = excluded.ended_at, "
    "duration = excluded.duration, outcome = excluded.outcome, "
    "error_type = excluded.error_type, error = excluded.error, "
    "traceback = excluded.traceback, result = excluded.result"
)
"""A run's row: a run still going gets one without outcome, which its end completes."""
INSERT_LOG = (
    "INSERT OR REPLACE INTO run_logs (run_id, seq, at, level, message) VALUES (?, ?, ?, ?, ?)"
)
UPSERT_TASK = (
    "INSERT INTO tasks (task_id, task_name, paused, last_fire_time) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET task_name = excluded.task_name, "
    "paused = excluded.paused, last_fire_time = COALESCE("
    "MAX(excluded.last_fire_time, last_fire_time), excluded.last_fire_time, last_fire_time)"
)
"""A saved state: the paused flag as given; the last firing never moves back."""


# ----- times -------------------------------------------------------------------------------


def iso(instant: datetime) -> str:
    """An instant as stored: ISO-8601 in UTC with microseconds (naive means UTC)."""
    if instant.tzinfo is UTC:  # the scheduler's instants: the common case first
        return instant.isoformat(timespec="microseconds")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    elif instant.utcoffset():
        instant = instant.astimezone(UTC)
    return instant.isoformat(timespec="microseconds")


def iso_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else iso(instant)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# ----- migrations -----------------------------------------------------------------------------


def create(connection: sqlite3.Connection) -> None:
    for statement in VERSION_3:
        connection.execute(statement)


def _from_version_1(connection: sqlite3.Connection) -> None:
    """Version 1 had rows already, with times as integer microseconds."""

    def when(micros: int | None) -> str | None:
        return None if micros is None else iso(_EPOCH + timedelta(microseconds=micros))

    runs = connection.execute(
        "SELECT run_id, task_id, task_name, kind, scheduled_for, started_at, finished_at, "
        "duration, outcome, error_type, error_message, traceback, replica FROM runs"
    ).fetchall()
    skips = connection.execute(f"SELECT {SKIP_COLUMNS} FROM skips").fetchall()
    tasks = connection.execute(
        "SELECT task_id, task_name, paused, last_fire_time FROM tasks"
    ).fetchall()
    for table in ("runs", "skips", "tasks"):
        connection.execute(f"DROP TABLE {table}")
    create(connection)
    connection.executemany(
        INSERT_RUN,
        [
            (*row[:4], when(row[4]), when(row[5]), when(row[6]), *row[7:12], None, 1, row[12])
            for row in runs
        ],
    )
    connection.executemany(
        f"INSERT INTO skips ({SKIP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row[:2], when(row[2]), row[3], row[4], when(row[5])) for row in skips],
    )
    connection.executemany(UPSERT_TASK, [(*row[:3], when(row[3])) for row in tasks])


def _from_version_2(connection: sqlite3.Connection) -> None:
    """Version 2 packed runs into blobs (see `_sqlite_legacy`): unpack every one."""
    from aioclock_core.stores import _sqlite_legacy as legacy

    runs = legacy.all_runs(connection)
    skips = connection.execute(f"SELECT {SKIP_COLUMNS} FROM skips").fetchall()
    tasks = connection.execute(
        "SELECT task_id, task_name, paused, last_fire_time FROM tasks"
    ).fetchall()
    for table in ("chunks", "journal", "running", "extras", "skips", "tasks"):
        connection.execute(f"DROP TABLE {table}")
    create(connection)
    write_runs(connection, reversed(runs))

    def when(micros: int | None) -> str | None:
        return None if micros is None else iso(_EPOCH + timedelta(microseconds=micros))

    connection.executemany(
        f"INSERT INTO skips ({SKIP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row[:2], when(row[2]), row[3], row[4], when(row[5])) for row in skips],
    )
    connection.executemany(UPSERT_TASK, [(*row[:3], when(row[3])) for row in tasks])


def migrate(connection: sqlite3.Connection, version: int, app_name: str) -> None:
    """Bring a file of `version` (0: empty) to SCHEMA_VERSION, in one transaction."""
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if version == 0:
            create(connection)
        elif version == 1:
            _from_version_1(connection)
        else:
            _from_version_2(connection)
        meta = {"format": FORMAT, "schema_version": str(SCHEMA_VERSION)}
        if version == 0:
            meta["app_name"] = app_name
        connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


# ----- file checks ------------------------------------------------------------------------------


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


# ----- rows <-> records ---------------------------------------------------------------------------

Row = tuple[Any, ...]


_SECOND = timedelta(seconds=1)
_KIND_TEXTS = {kind: kind.value for kind in RunKind}
_OUTCOME_TEXTS: dict[RunOutcome | None, str | None] = {None: None}
_OUTCOME_TEXTS.update((outcome, outcome.value) for outcome in RunOutcome)


class RowTexts:
    """The text forms rows repeat, worked out once: each task's id, and the second that
    most times of a burst (its firing instant, each run's start and end) fall in (the
    writer keeps one, so a row costs fewer conversions).

    What it buys: `datetime.isoformat` of an aware instant costs about 1.9 µs on the
    benchmark machine and a row has three; within a known second only the microseconds
    are formatted (about 0.5 µs), which took a row from 11 to 5 µs (benchmark: "History:
    the cost of recording every run"). tests/core/stores/test_sqlite.py checks that the
    texts equal `iso()`."""

    def __init__(self) -> None:
        self._ids: dict[UUID, str] = {}
        self._second = _EPOCH  # the start of the second `_prefix` spells, and its end
        self._second_end = _EPOCH
        self._prefix = ""

    def task_id(self, task_id: UUID) -> str:
        text = self._ids.get(task_id)
        if text is None:
            text = self._ids[task_id] = str(task_id)
        return text

    def time(self, instant: datetime) -> str:
        """`iso(instant)`, cheaper for instants in the second of the previous one."""
        if instant.tzinfo is UTC and self._second <= instant < self._second_end:
            return f"{self._prefix}{instant.microsecond:06d}+00:00"
        text = iso(instant)
        if instant.tzinfo is UTC:
            self._second = instant.replace(microsecond=0)
            self._second_end = self._second + _SECOND
            self._prefix = text[:20]  # "2026-12-02T06:50:26."
        return text


def run_row(run: RunRecord, texts: RowTexts | None = None) -> Row:
    texts = texts or RowTexts()
    ended = run.ended_at
    return (
        str(run.run_id),
        texts.task_id(run.task_id),
        run.task_name,
        _KIND_TEXTS[run.kind],
        texts.time(run.scheduled_for),
        texts.time(run.started_at),
        None if ended is None else texts.time(ended),
        run.duration,
        _OUTCOME_TEXTS[run.outcome],
        run.error_type,
        run.error_message,
        run.traceback,
        run.result,
        run.attempt,
        run.replica,
    )


def log_rows(run: RunRecord) -> list[Row]:
    run_id = str(run.run_id)
    return [
        (run_id, seq, iso(line.at), line.level, line.message) for seq, line in enumerate(run.logs)
    ]


def write_runs(
    connection: sqlite3.Connection, runs: Iterable[RunRecord], texts: RowTexts | None = None
) -> None:
    """Rows for `runs` (and their log lines), oldest first."""
    runs = list(runs)
    texts = texts or RowTexts()
    connection.executemany(INSERT_RUN, [run_row(run, texts) for run in runs])
    logs = [row for run in runs if run.logs for row in log_rows(run)]
    if logs:
        connection.executemany(INSERT_LOG, logs)


def run_record(row: Row, logs: Sequence[LogLine] = ()) -> RunRecord:
    (run_id, task_id, name, kind, scheduled, started, ended, duration, outcome) = row[:9]
    error_type, error, traceback, result, attempt, replica = row[9:]
    return RunRecord(
        run_id=UUID(run_id),
        task_id=UUID(task_id),
        task_name=name,
        kind=RunKind(kind),
        scheduled_for=parse(scheduled),
        started_at=parse(started),
        ended_at=parse_or_none(ended),
        duration=duration,
        outcome=None if outcome is None else RunOutcome(outcome),
        error_type=error_type,
        error_message=error,
        traceback=traceback,
        result=result,
        attempt=attempt,
        replica=replica,
        logs=tuple(logs),
    )


def skip_row(record: SkipRecord) -> Row:
    return (
        str(record.task_id),
        record.task_name,
        iso(record.scheduled_for),
        record.reason.value,
        record.count,
        iso(record.at),
    )


def skip_record(row: Row) -> SkipRecord:
    task_id, name, scheduled, reason, count, at = row
    return SkipRecord(
        task_id=UUID(task_id),
        task_name=name,
        scheduled_for=parse(scheduled),
        reason=SkipReason(reason),
        count=count,
        at=parse(at),
    )


def task_row(record: TaskRecord) -> Row:
    return (
        str(record.task_id),
        record.task_name,
        int(record.paused),
        iso_or_none(record.last_fire_time),
    )


# ----- queries shared by the store (writer thread) and the reader -----------------------------


def query_runs(
    connection: sqlite3.Connection,
    task_ids: Iterable[UUID] | None,
    limit: int,
    retention: Retention | None,
) -> list[RunRecord]:
    """Runs newest first, of the given tasks (or of all), with their log lines. With a
    `retention`, a task's runs beyond it (not pruned yet) are left out."""
    if limit <= 0:
        return []
    if task_ids is None:
        rows = connection.execute(
            f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
    else:
        rows = []
        for task_id in task_ids:
            per_task = limit if retention is None else min(limit, retention.max_runs)
            rows += connection.execute(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE task_id = ? "
                "ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (str(task_id), per_task),
            ).fetchall()
        rows.sort(key=lambda row: row[5], reverse=True)
        rows = rows[:limit]
    if retention is not None and rows:
        newest: dict[str, datetime] = {}
        for row in rows:
            newest.setdefault(row[1], parse(row[5]))
        rows = [r for r in rows if parse(r[5]) >= newest[r[1]] - retention.max_age]
    logs = _logs_of(connection, [row[0] for row in rows])
    return [run_record(row, logs.get(row[0], ())) for row in rows]


def query_unfinished(connection: sqlite3.Connection) -> list[RunRecord]:
    """Runs without an outcome (going, or left so by a process that died), oldest first."""
    rows = connection.execute(
        f"SELECT {RUN_COLUMNS} FROM runs WHERE outcome IS NULL ORDER BY started_at, rowid"
    ).fetchall()
    logs = _logs_of(connection, [row[0] for row in rows])
    return [run_record(row, logs.get(row[0], ())) for row in rows]


def _logs_of(connection: sqlite3.Connection, run_ids: list[str]) -> dict[str, list[LogLine]]:
    found: dict[str, list[LogLine]] = {}
    for start in range(0, len(run_ids), 500):
        part = run_ids[start : start + 500]
        for run_id, at, level, message in connection.execute(
            "SELECT run_id, at, level, message FROM run_logs "
            f"WHERE run_id IN ({', '.join('?' * len(part))}) ORDER BY run_id, seq",
            part,
        ):
            found.setdefault(run_id, []).append(LogLine(at=parse(at), level=level, message=message))
    return found


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
    """Every task's persisted state: the paused flag, and its last firing (the latest of
    the saved one and its newest scheduled run)."""
    records: dict[UUID, TaskRecord] = {}
    for task_id, name, paused, last_fire in connection.execute(
        "SELECT task_id, task_name, paused, last_fire_time FROM tasks"
    ):
        uuid = UUID(task_id)
        records[uuid] = TaskRecord(uuid, name, bool(paused), parse_or_none(last_fire))
    for task_id, name, last_fire in connection.execute(
        "SELECT task_id, MAX(task_name), MAX(scheduled_for) FROM runs "
        "WHERE kind = 'schedule' GROUP BY task_id"
    ):
        uuid = UUID(task_id)
        instant = parse(last_fire)
        known = records.get(uuid)
        if known is None:
            records[uuid] = TaskRecord(uuid, name, False, instant)
        elif known.last_fire_time is None or known.last_fire_time < instant:
            records[uuid] = TaskRecord(uuid, known.task_name, known.paused, instant)
    return records
