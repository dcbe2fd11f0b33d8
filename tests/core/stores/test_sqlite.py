"""SQLiteStore specifics: the file it creates, files it refuses, migrations, readers, batching."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aioclock_core.runs import LogLine, RunKind, RunOutcome
from aioclock_core.stores import Retention, SQLiteReader, SQLiteStore, StoreError
from aioclock_core.stores import _sqlite_schema as schema
from tests.core.stores.conftest import APP, T0, finished, started, task_id, time_limit

MINUTE = timedelta(minutes=1)

POLL_LIMIT = 5.0


def count_rows(path: Path, table: str) -> int:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        (count,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    db.close()
    return int(count)


def query(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """What a person with `sqlite3` would see."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute(sql, params).fetchall()
    db.close()
    return rows


async def until(condition: object, what: str) -> None:
    deadline = time.monotonic() + POLL_LIMIT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@time_limit()
async def test_a_new_file_is_wal_with_schema_version_and_app_name(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    await store.close()
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    assert meta == {
        "format": "aioclock history",
        "schema_version": "3",
        "app_name": APP,
        "writer_pid": str(os.getpid()),
    }
    assert mode == "wal"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database, just text " * 100, "is corrupt (file is not a database)"),
        (None, "is not an aioclock history database (it has tables: orders, users)"),
    ],
    ids=["corrupt", "foreign"],
)
@time_limit()
async def test_a_corrupt_or_foreign_file_is_refused_and_left_untouched(
    path: Path, content: bytes | None, message: str
) -> None:
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE users (id INTEGER)")
            db.execute("CREATE TABLE orders (id INTEGER)")
        db.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=re.escape(f"history.sqlite3 {message}")):
        await SQLiteStore(path).open(APP)
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match=r"[Pp]oint the store"):
        SQLiteReader(path)


@time_limit()
async def test_a_file_of_a_newer_schema_asks_for_an_upgrade(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(StoreError, match=r"schema version 99, newer .* upgrade clocktui"):
        await SQLiteStore(path).open(APP)


@time_limit()
async def test_the_history_of_another_app_is_refused(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open("billing")
    await store.close()
    with pytest.raises(StoreError, match="holds the history of the app 'billing', not 'web'"):
        await SQLiteStore(path).open("web")


@time_limit()
async def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"Cannot open .*nowhere.*folder exists"):
        await SQLiteStore(tmp_path / "nowhere" / "h.sqlite3").open(APP)


@time_limit()
async def test_a_second_writer_on_the_same_file_is_refused(path: Path) -> None:
    first = SQLiteStore(path)
    await first.open(APP)
    try:
        with pytest.raises(StoreError, match="in use by another running app"):
            await SQLiteStore(path).open(APP)
    finally:
        await first.close()
    second = SQLiteStore(path)
    await second.open(APP)
    await second.close()


@pytest.mark.parametrize("link", ["symlink", "hard link"])
@time_limit()
async def test_a_second_writer_through_another_name_is_refused_with_the_holders_pid(
    path: Path, tmp_path: Path, link: str
) -> None:
    first = SQLiteStore(path)
    await first.open(APP)
    other = tmp_path / "elsewhere.sqlite3"
    if link == "symlink":
        other.symlink_to(path)
    else:
        os.link(path, other)
    try:
        with pytest.raises(
            StoreError, match=rf"in use by another running app \(pid {os.getpid()}\)"
        ):
            await SQLiteStore(other).open(APP)
        first.deliver([finished(started("a", T0))])
        await first.flush()
    finally:
        await first.close()
    assert len(query(path, "SELECT 1 FROM runs")) == 1


def write_version_1_file(path: Path) -> None:
    """A file as the first release wrote it: one row per run."""
    with sqlite3.connect(path) as db:
        for statement in VERSION_1:
            db.execute(statement)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", schema.FORMAT), ("schema_version", "1"), ("app_name", APP)],
        )
        start = (T0 - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
        db.executemany(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (str(RUN_OK), str(task_id("a")), "a", "schedule", start, start,
                 start + 1_500_000, "succeeded", 1.5, None, None, None, None),
                (str(RUN_FAILED), str(task_id("a")), "a", "manual", start + 60_000_000,
                 start + 60_000_000, start + 62_000_000, "failed", 2.0, "ValueError",
                 "bad row 7", "Traceback ...", "host-a"),
                (str(RUN_OPEN), str(task_id("b")), "b", "schedule", start + 120_000_000,
                 start + 120_000_000, None, None, None, None, None, None, None),
            ],
        )  # fmt: skip
        db.execute(
            "INSERT INTO tasks VALUES (?, 'b', 1, ?)", (str(task_id("b")), start + 120_000_000)
        )
    db.close()


RUN_OK, RUN_FAILED, RUN_OPEN = (uuid.UUID(int=n) for n in (1, 2, 3))

VERSION_1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY, task_id TEXT NOT NULL, task_name TEXT NOT NULL,
        kind TEXT NOT NULL, scheduled_for INTEGER NOT NULL, started_at INTEGER NOT NULL,
        finished_at INTEGER, outcome TEXT, duration REAL, error_type TEXT,
        error_message TEXT, traceback TEXT, replica TEXT)""",
    """CREATE TABLE skips (
        id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, task_name TEXT NOT NULL,
        scheduled_for INTEGER NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
        at INTEGER NOT NULL)""",
    """CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY, task_name TEXT NOT NULL, paused INTEGER NOT NULL,
        last_fire_time INTEGER)""",
)
"""The first release's schema: one row per run, times as integer microseconds."""


@time_limit()
async def test_a_version_1_file_is_migrated_with_its_runs_and_state(path: Path) -> None:
    write_version_1_file(path)
    store = SQLiteStore(path)
    await store.open(APP)
    try:
        runs = await store.recent_runs()
        tasks = await store.load_tasks()
    finally:
        await store.close()
    assert [(r.run_id, r.task_name, r.outcome) for r in runs] == [
        (RUN_OPEN, "b", None),
        (RUN_FAILED, "a", RunOutcome.FAILED),
        (RUN_OK, "a", RunOutcome.SUCCEEDED),
    ]
    failed = runs[1]
    assert (failed.kind, failed.started_at, failed.ended_at, failed.duration) == (
        RunKind.MANUAL,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=1, seconds=2),
        2.0,
    )
    assert (failed.error_type, failed.error_message, failed.traceback, failed.replica) == (
        "ValueError",
        "bad row 7",
        "Traceback ...",
        "host-a",
    )
    assert tasks[task_id("b")].paused
    assert tasks[task_id("b")].last_fire_time == T0 + timedelta(minutes=2)
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        tables = schema.table_names(db)
    db.close()
    assert meta["schema_version"] == "3"
    assert tables == ["meta", "run_logs", "runs", "skips", "tasks"]


FIXTURE_V2 = Path(__file__).parent / "fixtures" / "history-v2.sqlite3"
"""A file written by the release of schema 2 (packed runs): 4 runs in chunks, 2 in the
journal (the process stopped before its checkpoint), 1 still going, a skip, a paused task."""


@time_limit()
async def test_a_version_2_file_is_migrated_with_every_run(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.write_bytes(FIXTURE_V2.read_bytes())
    store = SQLiteStore(path)
    await store.open("fixture-app")
    try:
        interrupted = await store.mark_interrupted(T0 + timedelta(hours=1))
        runs = await store.recent_runs(limit=100)
        skips = await store.recent_skips()
        tasks = await store.load_tasks()
    finally:
        await store.close()
    assert sorted(r.run_id.int for r in runs) == [1, 2, 3, 4, 5, 6, 7]
    by_number = {r.run_id.int: r for r in runs}
    failed, manual, timed_out = by_number[2], by_number[3], by_number[4]
    assert (failed.outcome, failed.error_type, failed.error_message) == (
        RunOutcome.FAILED,
        "ValueError",
        "bad row 7",
    )
    assert failed.traceback == "Traceback ...\nValueError: bad row 7\n"
    assert (failed.started_at, failed.ended_at, failed.duration) == (
        T0 + MINUTE,
        T0 + MINUTE + timedelta(seconds=2),
        2.0,
    )
    assert manual.kind is RunKind.MANUAL and manual.duration == 0.25
    assert (timed_out.outcome, timed_out.replica) == (RunOutcome.TIMED_OUT, "host-a")
    assert [r.run_id.int for r in interrupted] == [7]
    assert by_number[7].outcome is RunOutcome.INTERRUPTED
    assert by_number[5].task_name == "report" and by_number[6].duration == 1.0
    assert [(s.task_name, s.reason.value) for s in skips] == [("sync", "overlap")]
    assert tasks[task_id("sync")].paused
    # The journal's runs count, and so does the run the process died during.
    assert tasks[task_id("report")].last_fire_time == T0 + 4 * MINUTE
    assert query(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("3",)]


@time_limit()
async def test_after_flush_another_process_can_read_the_runs(path: Path) -> None:
    store = SQLiteStore(path, batch_interval=60)  # only flush() makes the writer write
    await store.open(APP)
    run = finished(started("a", T0))
    store.deliver([run])
    await store.flush()
    with SQLiteReader(path, APP) as reader:
        assert reader.app_name == APP
        assert reader.recent_runs() == [run]
        assert reader.recent_runs([task_id("other")]) == []
    await store.close()


@time_limit()
async def test_writes_reach_the_file_within_a_batch_interval_without_flush(path: Path) -> None:
    store = SQLiteStore(path, batch_interval=0.01)
    await store.open(APP)
    going = started("a", T0)
    store.deliver([going, finished(started("b", T0))])
    await until(
        lambda: (
            query(path, "SELECT task_name, outcome FROM runs ORDER BY task_name")
            == [("a", None), ("b", "succeeded")]
        ),
        "the writer wrote the batch",
    )
    store.deliver([finished(going)])
    await until(
        lambda: query(path, "SELECT outcome FROM runs WHERE task_name = 'a'") == [("succeeded",)],
        "the run's end completed its row",
    )
    await store.close()


@time_limit()
async def test_a_burst_that_ends_before_the_batch_is_due_waits_for_it(path: Path) -> None:
    store = SQLiteStore(path, batch_interval=0.5)
    await store.open(APP)
    opened = time.monotonic()
    store.busy()
    store.deliver([finished(started("a", T0))])
    store.idle()  # the end of a burst, 0.5 s before the first batch is due
    await asyncio.sleep(0.1)
    assert count_rows(path, "runs") == 0 or time.monotonic() - opened >= 0.5
    await until(lambda: count_rows(path, "runs") == 1, "the batch was due")
    await store.close()


@time_limit()
async def test_runs_queued_while_the_writer_runs_a_call_wait_for_the_next_batch(
    path: Path,
) -> None:
    # The scheduler may queue runs while the writer is still busy with a call (open's
    # connect, a flush): those wait for the batch interval like any other; they used to be
    # written by the same drain (the intermittent CI failure of the test above). The call
    # queues them itself, which makes that moment certain.
    store = SQLiteStore(path, batch_interval=0.5)
    await store.open(APP)
    await store._call(lambda _writer: store.deliver([finished(started("a", T0))]))
    called = time.monotonic()
    await asyncio.sleep(0.1)
    assert count_rows(path, "runs") == 0 or time.monotonic() - called >= 0.5
    await until(lambda: count_rows(path, "runs") == 1, "the batch was due")
    await store.close()


@time_limit()
async def test_runs_are_plain_rows_anyone_can_query_with_sql(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    run = finished(
        started("report", T0),
        result="{'rows': 3}",
        logs=(
            LogLine(at=T0, level="INFO", message="fetched 3 rows"),
            LogLine(at=T0 + timedelta(seconds=1), level="WARNING", message="slow"),
        ),
    )
    store.deliver([run])
    await store.close()
    assert query(path, "SELECT task_name, outcome, started_at, result FROM runs") == [
        ("report", "succeeded", "2026-03-01T12:00:00.000000+00:00", "{'rows': 3}")
    ]
    assert query(
        path,
        "SELECT l.level, l.message FROM run_logs l JOIN runs r USING (run_id) "
        "WHERE r.task_name = 'report' ORDER BY l.seq",
    ) == [("INFO", "fetched 3 rows"), ("WARNING", "slow")]
    # Times are text SQLite's date functions understand.
    assert query(path, "SELECT (julianday(ended_at) - julianday(started_at)) * 86400 FROM runs")[0][
        0
    ] == pytest.approx(1.5, abs=1e-3)


@time_limit()
async def test_runs_of_a_process_that_died_are_kept_and_its_open_run_interrupted(
    path: Path, tmp_path: Path
) -> None:
    store = SQLiteStore(path, batch_interval=0.01, prune_interval=3600)
    await store.open(APP)
    runs = [finished(started("a", T0 + i * MINUTE)) for i in range(3)]
    going = started("a", T0 + 3 * MINUTE)
    store.deliver([*runs, going])
    await until(lambda: len(query(path, "SELECT 1 FROM runs")) == 4, "the batch was written")
    # The file as a killed process leaves it: written, never closed.
    copy = tmp_path / "copy.sqlite3"
    for suffix in ("", "-wal"):
        Path(f"{copy}{suffix}").write_bytes(Path(f"{path}{suffix}").read_bytes())
    await store.close()
    revived = SQLiteStore(copy)
    await revived.open(APP)
    (interrupted,) = await revived.mark_interrupted(T0 + 10 * MINUTE)
    assert interrupted.run_id == going.run_id
    assert (await revived.recent_runs())[1:] == runs[::-1]
    assert (await revived.load_tasks())[task_id("a")].last_fire_time == T0 + 3 * MINUTE
    await revived.close()


@time_limit()
async def test_retention_bounds_what_the_file_keeps_not_only_what_reads_return(
    path: Path,
) -> None:
    store = SQLiteStore(path, Retention(max_runs=4), prune_interval=3600)
    await store.open(APP)
    logged = (LogLine(at=T0, level="INFO", message="x"),)
    for minute in range(15):
        store.deliver([finished(started("a", T0 + minute * MINUTE), logs=logged)])
    await store.flush()  # applies the retention
    starts = [r.started_at for r in await store.recent_runs(task_id("a"))]
    assert starts == [T0 + m * MINUTE for m in (14, 13, 12, 11)]
    assert query(path, "SELECT COUNT(*) FROM runs") == [(4,)]
    assert query(path, "SELECT COUNT(*) FROM run_logs") == [(4,)]  # logs go with their runs
    await store.close()


@time_limit()
async def test_a_file_that_cannot_be_written_keeps_the_runs_and_says_so_once(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(path, batch_interval=0.01)
    await store.open(APP)
    writer = store._writer
    assert writer is not None
    good = writer.connection
    writer.connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
    )
    runs = [finished(started("a", T0 + i * MINUTE)) for i in range(3)]
    for run in runs:
        store.deliver([run])
        await until(lambda: store.failure is not None, "the write failed")
    with pytest.raises(StoreError, match="readonly"):
        await store.flush()
    assert caplog.text.count("Cannot write history") == 1
    writer.connection.close()
    writer.connection = good
    await store.flush()
    assert store.failure is None and store.lost == 0
    assert await store.recent_runs() == runs[::-1]
    await store.close()


def test_the_reader_says_when_there_is_no_history_yet(path: Path) -> None:
    with pytest.raises(StoreError, match=r"No history database at .*history\.sqlite3"):
        SQLiteReader(path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_interval": 0},
        {"prune_interval": -1},
        {"retention": 5},
    ],
)
def test_bad_settings_are_refused_at_construction(path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError), match="SQLiteStore"):
        SQLiteStore(path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "instants",
    [
        [T0, T0 + timedelta(microseconds=7), T0 + timedelta(seconds=0.999999)],
        [T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=1), T0 + timedelta(seconds=0.9)],
        [T0.replace(tzinfo=None), T0 + timedelta(microseconds=3)],
        [T0.astimezone(timezone(timedelta(hours=2))), T0 + timedelta(microseconds=3)],
        [T0 - timedelta(days=400), T0, T0 - timedelta(days=400, microseconds=-1)],
    ],
    ids=["one-second", "across-a-second", "naive", "other-zone", "days-apart"],
)
def test_row_times_are_the_iso_text_whatever_second_came_before(
    instants: list[datetime],
) -> None:
    texts = schema.RowTexts()
    assert [texts.time(instant) for instant in instants] == [schema.iso(i) for i in instants]
