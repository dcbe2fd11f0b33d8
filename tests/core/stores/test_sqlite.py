"""SQLiteStore specifics: the file it creates, files it refuses, migrations, readers, batching."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from aioclock_core.events import RunKind, RunOutcome
from aioclock_core.stores import Retention, SQLiteReader, SQLiteStore, StoreError
from aioclock_core.stores import _sqlite_schema as schema
from aioclock_core.stores._sqlite_runs import CHUNK_LIMIT, ENTRY
from tests.core.stores.conftest import APP, T0, finished, started, task_id, time_limit

MINUTE = timedelta(minutes=1)

POLL_LIMIT = 5.0


def count_rows(path: Path, table: str) -> int:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        (count,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    db.close()
    return int(count)


def stored_runs(path: Path) -> dict[str, int]:
    """How many runs the file holds where: chunks, journal (not checkpointed), running."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        (chunked,) = db.execute("SELECT COALESCE(SUM(count), 0) FROM chunks").fetchone()
        (journal,) = db.execute("SELECT COALESCE(SUM(LENGTH(entries)), 0) FROM journal").fetchone()
        (running,) = db.execute("SELECT COUNT(*) FROM running").fetchone()
    db.close()
    return {"chunks": chunked, "journal": journal // ENTRY.size, "running": running}


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
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    assert meta == {"format": "aioclock history", "schema_version": "2", "app_name": APP}
    assert (mode, page_size) == ("wal", 16384)


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


def write_version_1_file(path: Path) -> None:
    """A file as the first release wrote it: one row per run."""
    with sqlite3.connect(path) as db:
        schema.create_version_1(db)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", schema.FORMAT), ("schema_version", "1"), ("app_name", APP)],
        )
        start = schema.to_micros(T0)
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
    assert (failed.kind, failed.started_at, failed.finished_at, failed.duration) == (
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
    assert meta["schema_version"] == "2"
    assert "runs" not in tables


@time_limit()
async def test_a_later_schema_version_is_migrated_on_open(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    store.record_run_finished(finished(started("a", T0)))
    await store.close()

    def add_host_column(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE chunks ADD COLUMN host TEXT")

    monkeypatch.setitem(schema.MIGRATIONS, 3, add_host_column)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    store = SQLiteStore(path)
    await store.open(APP)
    await store.close()
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        columns = [row[1] for row in db.execute("PRAGMA table_info(chunks)")]
    db.close()
    assert (meta["schema_version"], meta["app_name"], columns[-1]) == ("3", APP, "host")
    assert stored_runs(path) == {"chunks": 1, "journal": 0, "running": 0}


@time_limit()
async def test_after_flush_another_process_can_read_the_runs(path: Path) -> None:
    store = SQLiteStore(path, batch_interval=60)  # only flush() makes the writer write
    await store.open(APP)
    run = finished(started("a", T0))
    store.record_run_finished(run)
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
    store.record_run_started(started("a", T0))
    store.record_run_finished(finished(started("b", T0)))
    await until(
        lambda: stored_runs(path) == {"chunks": 0, "journal": 1, "running": 1},
        "the writer wrote the batch",
    )
    await store.close()


@time_limit()
async def test_a_checkpoint_moves_the_journal_into_chunks_and_reads_stay_the_same(
    path: Path,
) -> None:
    store = SQLiteStore(path, batch_interval=0.01, prune_interval=3600)
    await store.open(APP)
    runs = [finished(started(name, T0 + i * MINUTE)) for i, name in enumerate("abab")]
    for run in runs:
        store.record_run_finished(run)
    await until(lambda: stored_runs(path)["journal"] == 4, "the batch reached the journal")
    with SQLiteReader(path, APP) as reader:
        before = reader.recent_runs()
    await store.flush()  # checkpoints
    assert stored_runs(path) == {"chunks": 4, "journal": 0, "running": 0}
    assert count_rows(path, "chunks") == 2  # one per task
    with SQLiteReader(path, APP) as reader:
        assert reader.recent_runs() == before == runs[::-1]
        assert reader.recent_runs([task_id("a")]) == [runs[2], runs[0]]
    assert await store.recent_runs() == runs[::-1]
    await store.close()


@time_limit()
async def test_runs_of_a_process_that_died_before_its_checkpoint_are_kept(
    path: Path, tmp_path: Path
) -> None:
    store = SQLiteStore(path, batch_interval=0.01, prune_interval=3600)
    await store.open(APP)
    runs = [finished(started("a", T0 + i * MINUTE)) for i in range(3)]
    for run in runs:
        store.record_run_finished(run)
    await until(lambda: stored_runs(path)["journal"] == 3, "the batch reached the journal")
    # The file as a killed process leaves it: journal written, no checkpoint, no close.
    copy = tmp_path / "copy.sqlite3"
    for suffix in ("", "-wal"):
        Path(f"{copy}{suffix}").write_bytes(Path(f"{path}{suffix}").read_bytes())
    await store.close()
    revived = SQLiteStore(copy)
    await revived.open(APP)
    assert await revived.recent_runs() == runs[::-1]
    assert (await revived.load_tasks())[task_id("a")].last_fire_time == T0 + 2 * MINUTE
    await revived.close()
    assert stored_runs(copy) == {"chunks": 3, "journal": 0, "running": 0}


@time_limit()
async def test_retention_bounds_what_the_file_keeps_not_only_what_reads_return(
    path: Path,
) -> None:
    store = SQLiteStore(path, Retention(max_runs=4), prune_interval=3600)
    await store.open(APP)
    for checkpoint in range(5):
        for i in range(3):
            at = T0 + (checkpoint * 3 + i) * MINUTE
            store.record_run_finished(finished(started("a", at)))
        await store.flush()  # one chunk of 3 runs per flush
    # Whole chunks go: the newest two (6 runs) cover max_runs=4, the older three are gone.
    assert stored_runs(path)["chunks"] == 6
    newest = [r.started_at for r in await store.recent_runs(task_id("a"))]
    assert newest == [T0 + m * MINUTE for m in (14, 13, 12, 11)]
    await store.close()


@time_limit()
async def test_a_busy_task_is_split_into_chunks_of_bounded_size(path: Path) -> None:
    store = SQLiteStore(path, Retention(max_runs=5000), prune_interval=3600)
    await store.open(APP)
    count = CHUNK_LIMIT * 2 + 5
    for i in range(count):
        store.record_run_finished(finished(started("busy", T0 + i * timedelta(seconds=1))))
    await store.flush()
    assert count_rows(path, "chunks") == 3
    assert stored_runs(path)["chunks"] == count
    (newest,) = await store.recent_runs(task_id("busy"), limit=1)
    assert newest.started_at == T0 + (count - 1) * timedelta(seconds=1)
    await store.close()


def test_the_reader_says_when_there_is_no_history_yet(path: Path) -> None:
    with pytest.raises(StoreError, match=r"No history database at .*history\.sqlite3"):
        SQLiteReader(path)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_interval": 0},
        {"prune_interval": -1},
        {"retention": 5},
    ],
)
def test_bad_settings_are_refused_at_construction(path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError), match="SQLiteStore"):
        SQLiteStore(path, **kwargs)  # type: ignore[arg-type]


@time_limit()
async def test_recording_only_queues_a_few_microseconds_per_record(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    runs = [started("a", T0.replace(second=i % 60)) for i in range(20_000)]
    begin = time.perf_counter()
    for run in runs:
        store.record_run_started(run)
    per_record = (time.perf_counter() - begin) / len(runs)
    await store.close()
    assert per_record < 5e-6, f"{per_record * 1e6:.2f} µs per record"
