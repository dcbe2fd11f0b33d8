"""RedisCoordinator against a real server: claims, control stream, liveness, errors."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio as aioredis

from aioclock_core.coordination import CommandKind, ControlCommand, UnavailablePolicy
from aioclock_core.ext.redis import RedisCoordinator, send_command
from aioclock_core.stores.redis import RedisKeys
from tests.replicas.conftest import free_port, time_limit

APP = "coordinator-tests"
TASK = uuid.uuid5(uuid.NAMESPACE_URL, "task")


async def started(url: str, replica: str, **options: object) -> RedisCoordinator:
    coordinator = RedisCoordinator(url, replica=replica, **options)  # type: ignore[arg-type]

    async def ignore(_: ControlCommand) -> None:
        return None

    await coordinator.start(APP, ignore)
    return coordinator


@time_limit()
async def test_the_first_claim_wins_and_later_ones_name_the_holder(redis_url: str) -> None:
    a, b = await started(redis_url, "a"), await started(redis_url, "b")
    try:
        assert (await a.claim(TASK, "2026-03-01T12:00:00+00:00", 60)).won
        lost = await b.claim(TASK, "2026-03-01T12:00:00+00:00", 60)
        assert (lost.won, lost.holder, lost.error) == (False, "a", None)
        assert (await b.claim(TASK, "2026-03-01T12:00:01+00:00", 60)).won
    finally:
        await a.stop()
        await b.stop()


@time_limit()
async def test_concurrent_claims_of_one_firing_have_exactly_one_winner(redis_url: str) -> None:
    replicas = [await started(redis_url, f"r{i}") for i in range(3)]
    try:
        keys = [f"k{n}" for n in range(200)]
        claims = await asyncio.gather(*(r.claim(TASK, k, 60) for k in keys for r in replicas))
        winners = [c for c in claims if c.won]
        assert len(winners) == len(keys)
        assert all(c.holder in {"r0", "r1", "r2"} for c in claims if not c.won)
    finally:
        for r in replicas:
            await r.stop()


@time_limit()
async def test_a_claim_expires_after_its_ttl(redis_url: str, redis_client: aioredis.Redis) -> None:
    a = await started(redis_url, "a")
    try:
        assert (await a.claim(TASK, "k", 0.2)).won
        ttl = await redis_client.pttl(RedisKeys(APP).claim(TASK, "k"))
        assert 0 < ttl <= 200
    finally:
        await a.stop()


@time_limit()
async def test_an_unreachable_server_answers_claims_with_an_error_quickly() -> None:
    dead = RedisCoordinator(f"redis://127.0.0.1:{free_port()}/0", replica="lonely", timeout=0.5)

    async def ignore(_: ControlCommand) -> None:
        return None

    await dead.start(APP, ignore)  # must not raise
    try:
        began = time.monotonic()
        claim = await dead.claim(TASK, "k", 60)
        assert time.monotonic() - began < 1.5
        assert not claim.won
        assert claim.error is not None and "Redis unreachable" in claim.error
    finally:
        await dead.stop()


def test_a_bad_url_is_refused_at_construction_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"RedisCoordinator: url must be a Redis URL.*got .http://localhost:6379."
    ):
        RedisCoordinator("http://localhost:6379")


def test_heartbeat_must_come_before_liveness_expires() -> None:
    with pytest.raises(ValueError, match="heartbeat_interval"):
        RedisCoordinator("redis://localhost", heartbeat_interval=10, liveness_ttl=5)


def test_the_default_policy_is_to_skip() -> None:
    assert RedisCoordinator("redis://localhost").policy is UnavailablePolicy.SKIP


@time_limit()
async def test_commands_reach_the_other_replicas_but_not_their_origin(redis_url: str) -> None:
    heard: dict[str, list[ControlCommand]] = {"a": [], "b": []}
    coordinators = []
    for name in heard:
        coordinator = RedisCoordinator(redis_url, replica=name)

        async def note(command: ControlCommand, name: str = name) -> None:
            heard[name].append(command)

        await coordinator.start(APP, note)
        coordinators.append(coordinator)
    try:
        command = ControlCommand(CommandKind.PAUSE, TASK, uuid.uuid4(), "a")
        await coordinators[0].broadcast(command)
        console = ControlCommand(CommandKind.RESUME_ALL, None, uuid.uuid4(), "console:host")
        await send_command(redis_url, APP, console)
        while len(heard["b"]) < 2 or len(heard["a"]) < 1:
            await asyncio.sleep(0.01)
        assert heard["b"] == [command, console]
        assert heard["a"] == [console]
    finally:
        for coordinator in coordinators:
            await coordinator.stop()


@time_limit()
async def test_a_replica_is_alive_while_started_and_gone_after_stop(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    keys = RedisKeys(APP)
    a = await started(redis_url, "a", heartbeat_interval=0.1, liveness_ttl=0.3)
    await asyncio.sleep(0.5)  # several TTLs: only the heartbeat keeps it
    assert await redis_client.exists(keys.alive("a"))
    assert "a" in await redis_client.hkeys(keys.replicas)
    await a.stop()
    assert not await redis_client.exists(keys.alive("a"))


@time_limit()
async def test_stop_ends_the_heartbeat_even_when_its_cancel_comes_as_a_beat_completes(
    redis_url: str,
) -> None:
    # On Python 3.10 and 3.11, asyncio.wait_for returns the result of what it awaits when
    # its task is cancelled just as that completes (CPython gh-86296): here stop() cancels
    # the heartbeat between the end of a beat and wait_for's wake-up. The heartbeat used
    # to lose that cancel and beat on, and stop() to wait for it forever.
    coordinator = await started(redis_url, "a", heartbeat_interval=0.05)
    real_beat = coordinator._beat
    stopping: list[asyncio.Task[None]] = []

    async def beat_then_stop() -> None:
        await real_beat()
        if not stopping:  # its first step is planned before wait_for's wake-up
            stopping.append(asyncio.ensure_future(coordinator.stop()))

    coordinator._beat = beat_then_stop  # type: ignore[method-assign]
    while not stopping:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(stopping[0], 5)
