"""Replicas under trouble: one killed mid-run, and Redis itself restarted under them."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime, timezone

import pytest
import redis

from aioclock_core.events import RunOutcome, SkipReason
from aioclock_core.stores import RunRecord, SkipRecord
from aioclock_core.stores.redis import RedisKeys, RedisStore
from tests.apps.replica_app import APP_NAME
from tests.replicas.conftest import RedisServer
from tests.replicas.fleet import ReplicaFleet, all_runs, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

FAST = {"TASKS": "5", "HEARTBEAT": "0.5", "LIVENESS": "2", "SWEEP": "0.5"}


def test_a_killed_replicas_run_is_abandoned_and_the_others_go_on(
    fleet: ReplicaFleet, redis_url: str
) -> None:
    keys = RedisKeys(APP_NAME)
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    # The victim runs the long task only: with the short ones too, a short run in flight
    # (or not yet recorded as finished) when it is killed would be abandoned as well.
    (victim,) = fleet.start(["victim"], LONG_TASK="1", CLAIM_MARGIN="3", **{**FAST, "TASKS": "0"})
    (survivor,) = fleet.start(["survivor"], **FAST)
    assert wait_until(lambda: "victim" in sync.hvals(keys.in_flight), 20), victim.logs()
    claims = sync.keys(f"{keys.prefix}:claim:*")
    victim.kill()
    killed_at = datetime.now(timezone.utc)

    def runs() -> list[RunRecord]:
        return asyncio.run(all_runs(redis_url))

    def abandoned() -> list[RunRecord]:
        return [r for r in runs() if r.outcome is RunOutcome.ABANDONED]

    assert wait_until(abandoned, 20, step=0.5), survivor.logs()
    (long_run,) = abandoned()
    assert (long_run.task_name, long_run.replica) == ("long", "victim")
    assert "victim stopped heartbeating" in (long_run.error_message or "")
    held_by_victim = [c for c in claims if sync.get(c) == "victim" or "long" in c]
    assert wait_until(lambda: not any(sync.exists(c) for c in held_by_victim), 10)
    assert wait_until(
        lambda: any(r.replica == "survivor" and r.started_at > killed_at for r in runs()), 20
    ), survivor.logs()
    assert survivor.stop() == 0, survivor.logs()


def test_replicas_survive_a_redis_restart_skip_while_it_is_down_and_resume(
    fleet: ReplicaFleet, redis_server: RedisServer, redis_url: str
) -> None:
    replicas = fleet.start(["r1", "r2"], **FAST)
    time.sleep(2)
    redis_server.stop()
    down_from = datetime.now(timezone.utc)
    time.sleep(3)
    redis_server.start()
    back_at = datetime.now(timezone.utc)

    async def history() -> tuple[list[RunRecord], list[SkipRecord]]:
        store = RedisStore(redis_url, replica="reader", sweep_interval=3600)
        await store.open(APP_NAME)
        try:
            return await store.recent_runs(limit=10_000), await store.recent_skips(limit=10_000)
        finally:
            await store.close()

    def resumed_and_reported() -> bool:
        # Reconnecting and writing what queued up take longer on a loaded machine.
        runs, skips = asyncio.run(asyncio.wait_for(history(), 30))
        return any(r.scheduled_for > back_at and r.outcome for r in runs) and any(
            s.reason is SkipReason.UNAVAILABLE for s in skips
        )

    assert wait_until(resumed_and_reported, 30, step=0.5), [r.logs() for r in replicas]
    assert all(r.process.poll() is None for r in replicas), [r.logs() for r in replicas]
    _, skips = asyncio.run(asyncio.wait_for(history(), 30))
    unavailable = [s for s in skips if s.reason is SkipReason.UNAVAILABLE]
    assert all(down_from.timestamp() - 2 < s.scheduled_for.timestamp() for s in unavailable)
    codes = [r.stop() for r in replicas]
    logs = "".join(r.logs() for r in replicas)
    assert codes == [0, 0], logs
    assert "unreachable" in logs and "reachable again" in logs
    assert "Traceback" not in logs


def test_a_replica_stops_promptly_while_redis_is_down(
    fleet: ReplicaFleet, redis_server: RedisServer
) -> None:
    (replica,) = fleet.start(["lonely"], **FAST)
    time.sleep(1.5)  # a few firings in flight to Redis
    redis_server.stop()
    try:
        time.sleep(1.5)  # firings now queue up for a Redis that is gone
        began = time.monotonic()
        code = replica.stop(timeout=30)
        took = time.monotonic() - began
    finally:
        redis_server.start()
    logs = replica.logs()
    assert code == 0, logs
    # The queued writes are reported lost, not waited for until Redis comes back.
    assert "unreachable" in logs and "not stored at close" in logs, logs
    assert took < 15, f"stopping took {took:.1f} s:\n{logs}"
