"""The store contract: every store (memory, SQLite) passes these same tests."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aioclock_core.events import RunKind, RunOutcome, SkipReason
from aioclock_core.stores import Retention, Store, TaskRecord
from tests.core.stores.conftest import (
    T0,
    Harness,
    finished,
    skipped,
    started,
    task_id,
    time_limit,
)

MINUTE = timedelta(minutes=1)


@time_limit()
async def test_a_started_run_reads_back_in_progress(store: Store) -> None:
    run = started("backup", T0, replica="host-a", kind=RunKind.MANUAL)
    store.deliver([run])
    await store.flush()
    assert await store.recent_runs() == [run]


@time_limit()
async def test_a_finished_run_replaces_its_started_record(store: Store) -> None:
    run = started("backup", T0)
    done = finished(
        run,
        2.25,
        outcome=RunOutcome.FAILED,
        error_type="ValueError",
        error_message="bad row 7",
        traceback="Traceback (most recent call last):\n  ...\nValueError: bad row 7\n",
    )
    store.deliver([run])
    store.deliver([done])
    await store.flush()
    assert await store.recent_runs() == [done]


@time_limit()
async def test_instants_keep_microseconds_and_compare_equal_across_zones(store: Store) -> None:
    paris = (T0 + timedelta(microseconds=123_457)).astimezone(ZoneInfo("Europe/Paris"))
    run = started("backup", paris)
    store.deliver([run])
    await store.flush()
    (stored,) = await store.recent_runs()
    assert stored.started_at == paris
    assert stored.started_at.utcoffset() is not None


@time_limit()
async def test_runs_come_newest_first_across_tasks(store: Store) -> None:
    runs = [started(name, T0 + i * MINUTE) for i, name in enumerate(["a", "b", "a", "c"])]
    for run in runs:
        store.deliver([run])
    await store.flush()
    assert await store.recent_runs() == runs[::-1]


@time_limit()
async def test_runs_of_one_task_are_filtered_and_limited(store: Store) -> None:
    runs = [started(name, T0 + i * MINUTE) for i, name in enumerate(["a", "b"] * 4)]
    for run in runs:
        store.deliver([finished(run)])
    await store.flush()
    newest_a = [r.run_id for r in runs if r.task_name == "a"][::-1]
    assert [r.run_id for r in await store.recent_runs(task_id("a"))] == newest_a
    assert [r.run_id for r in await store.recent_runs(task_id("a"), limit=2)] == newest_a[:2]
    assert len(await store.recent_runs(limit=3)) == 3
    assert await store.recent_runs(task_id("nobody")) == []


@time_limit()
async def test_retention_keeps_the_newest_runs_of_each_task(harness: Harness) -> None:
    store = await harness.open(Retention(max_runs=3))
    busy = [started("busy", T0 + i * MINUTE) for i in range(6)]
    quiet = started("quiet", T0)
    for run in [*busy, quiet]:
        store.deliver([finished(run)])
    await store.flush()
    kept = [r.run_id for r in await store.recent_runs(task_id("busy"))]
    assert kept == [r.run_id for r in busy[::-1][:3]]
    everything = await store.recent_runs(limit=100)
    assert {r.run_id for r in everything} == {*kept, quiet.run_id}


@time_limit()
async def test_retention_drops_runs_older_than_max_age_before_the_newest(
    harness: Harness,
) -> None:
    store = await harness.open(Retention(max_age=timedelta(days=1)))
    old, recent, newest = (started("daily", T0 + timedelta(hours=h)) for h in (0, 30, 48))
    for run in (old, recent, newest):
        store.deliver([finished(run)])
    await store.flush()
    assert [r.run_id for r in await store.recent_runs(task_id("daily"))] == [
        newest.run_id,
        recent.run_id,
    ]


@time_limit()
async def test_skips_read_back_newest_first_per_task(store: Store) -> None:
    skips = [
        skipped("a", T0),
        skipped("b", T0 + MINUTE, SkipReason.PAUSED),
        skipped("a", T0 + 2 * MINUTE, SkipReason.MISSED),
    ]
    for skip in skips:
        store.record_skip(skip)
    await store.flush()
    assert await store.recent_skips() == skips[::-1]
    assert await store.recent_skips(task_id("a"), limit=1) == [skips[2]]


@time_limit()
async def test_retention_keeps_the_newest_skips_of_each_task(harness: Harness) -> None:
    store = await harness.open(Retention(max_runs=2))
    skips = [skipped("a", T0 + i * MINUTE) for i in range(5)]
    for skip in skips:
        store.record_skip(skip)
    await store.flush()
    assert await store.recent_skips(task_id("a")) == skips[::-1][:2]


@time_limit()
async def test_load_tasks_is_empty_for_a_new_store(store: Store) -> None:
    assert await store.load_tasks() == {}


@time_limit()
async def test_the_latest_saved_task_state_wins(store: Store) -> None:
    a, b = task_id("a"), task_id("b")
    store.save_task(TaskRecord(a, "a", paused=True))
    store.save_task(TaskRecord(b, "b", last_fire_time=T0))
    store.save_task(TaskRecord(a, "a", paused=False, last_fire_time=T0 + MINUTE))
    await store.flush()
    assert await store.load_tasks() == {
        a: TaskRecord(a, "a", paused=False, last_fire_time=T0 + MINUTE),
        b: TaskRecord(b, "b", paused=False, last_fire_time=T0),
    }


@time_limit()
async def test_runs_left_in_progress_are_marked_interrupted_on_the_next_open(
    harness: Harness,
) -> None:
    store = await harness.open()
    left_open = started("slow", T0)
    done = finished(started("fast", T0 + MINUTE))
    store.deliver([left_open])
    store.deliver([done])
    store = await harness.reopen()
    at = T0 + 10 * MINUTE
    (interrupted,) = await store.mark_interrupted(at)
    assert interrupted.run_id == left_open.run_id
    assert (interrupted.outcome, interrupted.ended_at, interrupted.duration) == (
        RunOutcome.INTERRUPTED,
        at,
        600.0,
    )
    assert await store.recent_runs() == [done, interrupted]
    assert await store.mark_interrupted(at) == []


@time_limit()
async def test_reads_see_writes_queued_before_them(store: Store) -> None:
    run = started("a", T0)
    store.deliver([run])
    store.save_task(TaskRecord(run.task_id, "a", paused=True))
    assert await store.recent_runs() == [run]
    assert (await store.load_tasks())[run.task_id].paused


@time_limit()
async def test_history_and_state_survive_a_reopen(harness: Harness) -> None:
    if not harness.persistent:
        pytest.skip("a memory store keeps nothing across processes")
    store = await harness.open()
    run = finished(started("a", T0))
    store.deliver([run])
    store.record_skip(skipped("a", T0 + MINUTE))
    store.save_task(TaskRecord(run.task_id, "a", paused=True, last_fire_time=T0))
    await store.flush()
    store = await harness.reopen()
    assert await store.recent_runs() == [run]
    assert await store.recent_skips() == [skipped("a", T0 + MINUTE)]
    assert (await store.load_tasks())[run.task_id] == TaskRecord(
        run.task_id, "a", paused=True, last_fire_time=T0.astimezone(timezone.utc)
    )


@time_limit()
async def test_the_memory_store_keeps_a_bounded_total_and_forgets_evicted_runs_entirely() -> None:
    from aioclock_core.stores import MemoryStore

    store = MemoryStore(Retention(max_runs=5, max_total=12))
    await store.open("memory")
    for minute in range(10):
        store.deliver([finished(started(name, T0 + minute * MINUTE)) for name in "abcd"])
    runs = await store.recent_runs(limit=100)
    assert len(runs) == 12  # the newest 12 of 40: 3 per task
    assert {r.started_at for r in runs} == {T0 + m * MINUTE for m in (7, 8, 9)}
    assert len(store._runs) == 12  # the memory holds no more than the total
    assert len(await store.recent_runs(task_id("a"), limit=100)) == 3
    assert Retention.in_memory() == Retention(max_runs=100, max_total=20_000)
    assert MemoryStore().retention == Retention.in_memory()


@time_limit()
async def test_the_memory_store_gives_back_every_field_and_keeps_nothing_for_the_collector() -> (
    None
):
    """The memory store keeps runs as plain tuples so that the cyclic collector does not
    scan 20,000 of them at every collection (p99 lateness at 10,000 tasks); what it gives
    back must still be the very record it was given."""
    import gc

    from aioclock_core.runs import LogLine
    from aioclock_core.stores import MemoryStore

    store = MemoryStore()
    await store.open("memory")
    run = finished(
        started("report", T0, replica="host-a", kind=RunKind.RETRY, attempt=2),
        0.75,
        outcome=RunOutcome.FAILED,
        error_type="ValueError",
        error_message="bad row 7",
        traceback="Traceback (most recent call last): ...",
        result="{'rows': 3}",
        logs=(
            LogLine(at=T0, level="INFO", message="starting"),
            LogLine(at=T0 + timedelta(seconds=0.5), level="ERROR", message="bad row 7"),
        ),
    )
    plain = finished(started("other", T0 + MINUTE))
    store.deliver([run, plain])
    assert await store.recent_runs(task_id("report")) == [run]
    assert await store.recent_runs() == [plain, run]
    for _ in range(3):  # the collector untracks nested tuples one level per collection
        gc.collect()
    assert not any(gc.is_tracked(kept) for kept in store._runs)
