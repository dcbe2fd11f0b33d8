"""What RedisStore does beyond the shared contract: replicas, abandoned runs, shared state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from aioclock_core.events import RunOutcome, SkipReason
from aioclock_core.stores import TaskRecord
from aioclock_core.stores.redis import RedisKeys, RedisStore
from tests.core.stores.conftest import T0, skipped, started, task_id
from tests.replicas.conftest import time_limit

APP = "store-extras"
KEYS = RedisKeys(APP)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url, replica="me", sweep_interval=3600)
    await store.open(APP)
    yield store
    await store.close()


@time_limit()
async def test_skips_because_another_replica_ran_the_firing_are_not_stored(
    store: RedisStore,
) -> None:
    store.record_skip(skipped("a", T0, SkipReason.ELSEWHERE))
    store.record_skip(skipped("a", T0, SkipReason.PAUSED))
    assert [s.reason for s in await store.recent_skips()] == [SkipReason.PAUSED]


@time_limit()
async def test_runs_of_a_dead_registered_replica_are_abandoned(
    store: RedisStore, redis_client: aioredis.Redis
) -> None:
    dead, alive, stranger = (started(n, T0, replica=n) for n in ("dead", "alive", "stranger"))
    for run in (dead, alive, stranger):
        store.deliver([run])
    await store.flush()
    await redis_client.hset(KEYS.replicas, mapping={"dead": "{}", "alive": "{}"})
    await redis_client.set(KEYS.alive("alive"), "{}")
    (abandoned,) = await store.sweep_abandoned(T0.replace(minute=5))
    assert (abandoned.run_id, abandoned.outcome, abandoned.duration) == (
        dead.run_id,
        RunOutcome.ABANDONED,
        300.0,
    )
    assert await store.sweep_abandoned() == []
    assert set((await store.in_flight()).values()) == {"alive", "stranger"}


@time_limit()
async def test_a_real_end_written_after_the_sweep_wins(store: RedisStore) -> None:
    run = started("late", T0, replica="slow")
    store.deliver([run])
    await store.flush()
    await store._client.hset(KEYS.replicas, "slow", "{}")
    await store.sweep_abandoned()
    done = replace(run, outcome=RunOutcome.SUCCEEDED, duration=1.0)
    store.deliver([done])
    assert await store.recent_runs() == [done]


@time_limit()
async def test_mark_interrupted_leaves_other_replicas_runs_alone(store: RedisStore) -> None:
    mine, theirs = started("a", T0, replica="me"), started("b", T0, replica="other")
    store.deliver([mine])
    store.deliver([theirs])
    (closed,) = await store.mark_interrupted(T0)
    assert (closed.run_id, closed.outcome) == (mine.run_id, RunOutcome.INTERRUPTED)


@time_limit()
async def test_a_replica_saving_its_last_firing_keeps_anothers_pause(
    store: RedisStore, redis_url: str
) -> None:
    other = RedisStore(redis_url, replica="other", sweep_interval=3600)
    await other.open(APP)
    try:
        a = task_id("a")
        store.save_task(TaskRecord(a, "a"))
        other.save_task(TaskRecord(a, "a"))
        await store.flush()
        await other.flush()
        other.save_task(TaskRecord(a, "a", paused=True))
        await other.flush()
        store.save_task(TaskRecord(a, "a", paused=False, last_fire_time=T0))
        assert (await store.load_tasks())[a] == TaskRecord(a, "a", True, T0)
    finally:
        await other.close()
