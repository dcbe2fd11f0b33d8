"""SQLiteStore specifics: the file it creates, files it refuses, migrations, readers, batching."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path

import pytest

from aioclock_core.stores import Retention, SQLiteReader, SQLiteStore, StoreError
from aioclock_core.stores import _sqlite_schema as schema
from tests.core.stores.conftest import APP, T0, finished, started, task_id, time_limit

POLL_LIMIT = 5.0


def count_rows(path: Path, table: str = "runs") -> int:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        (count,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return int(count)


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
    assert meta == {"format": "aioclock history", "schema_version": "1", "app_name": APP}
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


@time_limit()
async def test_an_older_schema_is_migrated_on_open(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(path)
    await store.open(APP)
    store.record_run_finished(finished(started("a", T0)))
    await store.close()

    def add_host_column(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN host TEXT")

    monkeypatch.setitem(schema.MIGRATIONS, 2, add_host_column)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    store = SQLiteStore(path)
    await store.open(APP)
    await store.close()
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
        (runs,) = db.execute("SELECT COUNT(*) FROM runs").fetchone()
    assert (meta["schema_version"], meta["app_name"], columns[-1], runs) == ("2", APP, "host", 1)


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
    await until(lambda: count_rows(path) == 1, "the writer wrote the batch")
    await store.close()


@time_limit()
async def test_pruning_waits_for_the_prune_interval_not_each_insert(path: Path) -> None:
    store = SQLiteStore(path, Retention(max_runs=2), batch_interval=0.01, prune_interval=3600)
    await store.open(APP)
    for minute in range(5):
        store.record_run_finished(finished(started("a", T0.replace(minute=minute))))
    await until(lambda: count_rows(path) == 5, "the writer wrote every run")
    await store.flush()  # flush (and close) apply the retention too
    assert count_rows(path) == 2
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
