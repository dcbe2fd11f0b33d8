"""RedisStore passes the same store contract as memory and SQLite (tests imported from there)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aioclock_core.stores import Retention, Store
from aioclock_core.stores.redis import RedisStore
from tests.core.stores.conftest import APP, TIMEOUT
from tests.core.stores.test_contract import (  # noqa: F401  (collected here, against Redis)
    test_a_finished_run_replaces_its_started_record,
    test_a_started_run_reads_back_in_progress,
    test_history_and_state_survive_a_reopen,
    test_instants_keep_microseconds_and_compare_equal_across_zones,
    test_load_tasks_is_empty_for_a_new_store,
    test_reads_see_writes_queued_before_them,
    test_retention_drops_runs_older_than_max_age_before_the_newest,
    test_retention_keeps_the_newest_runs_of_each_task,
    test_retention_keeps_the_newest_skips_of_each_task,
    test_runs_come_newest_first_across_tasks,
    test_runs_left_in_progress_are_marked_interrupted_on_the_next_open,
    test_runs_of_one_task_are_filtered_and_limited,
    test_skips_read_back_newest_first_per_task,
    test_the_latest_saved_task_state_wins,
)


class RedisHarness:
    """The contract's harness for Redis: `reopen()` is a new store object on the same
    database, as the next process of the same replica would open it."""

    kind = "redis"
    persistent = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.store: RedisStore | None = None

    async def open(self, retention: Retention | None = None) -> Store:
        self.store = RedisStore(self.url, replica="contract", retention=retention)
        await self.store.open(APP)
        return self.store

    async def reopen(self) -> Store:
        assert self.store is not None
        retention = self.store.retention
        await self.store.close()
        return await self.open(retention)

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()


@pytest.fixture
async def harness(redis_url: str) -> AsyncIterator[RedisHarness]:
    harness = RedisHarness(redis_url)
    yield harness
    await asyncio.wait_for(harness.close(), TIMEOUT)


@pytest.fixture
async def store(harness: RedisHarness) -> Store:
    return await harness.open()
