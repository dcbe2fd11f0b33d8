"""Redis keys and the JSON encoding of records, shared by RedisStore and RedisCoordinator."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "The Redis backend needs redis-py: pip install 'clocktui[redis]' (or 'redis>=5')"
    ) from missing

from aioclock_core.events import SkipReason
from aioclock_core.runs import run_from_json, run_to_json
from aioclock_core.stores.base import (
    RunRecord,
    SkipRecord,
    TaskRecord,
)


def default_replica_name() -> str:
    """`hostname-pid`: unique per process, readable in the console."""
    return f"{socket.gethostname()}-{os.getpid()}"


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


async def close_client(client: Any, timeout: float, owner: str) -> None:
    """Close a client (or pubsub/listener) without waiting forever: a connection whose
    command was cancelled mid-way can leave redis-py's close waiting on it, and a
    process must still stop."""
    try:
        await asyncio.wait_for(client.aclose(), timeout)
    except Exception as error:  # closing is best effort: never block or fail a stop
        logging.getLogger("aioclock.redis").info(
            "%s: closing the Redis connection gave up (%s)", owner, error or type(error).__name__
        )


def connect(url: str, timeout: float | None, owner: str) -> aioredis.Redis:
    """A client for `url` whose every connect and read gives up after `timeout` seconds,
    without retries (callers decide when to try again). Bad URLs fail here, by name."""
    scheme = urlsplit(url).scheme if isinstance(url, str) else ""
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            f"{owner}: url must be a Redis URL such as redis://localhost:6379/0 "
            f"(schemes redis://, rediss://, unix://), got {url!r}"
        )
    try:
        return aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
    except ValueError as error:
        raise ValueError(
            f"{owner}: cannot use the Redis URL {describe_url(url)!r}: {error}"
        ) from None


class RedisKeys:
    """Names of one app's keys. The app name is a hash tag (`{app}`), so every key of an
    app lands in one Redis Cluster slot and the store's scripts stay valid there."""

    def __init__(self, app_name: str) -> None:
        self.prefix = f"clocktui:{{{app_name}}}"
        p = self.prefix
        self.control = f"{p}:control"
        self.replicas = f"{p}:replicas"
        self.task_ids = f"{p}:tasks"
        self.task_info = f"{p}:task-info"
        self.runs = f"{p}:runs"
        self.run_index = f"{p}:run-index"
        self.in_flight = f"{p}:in-flight"
        self.skip_tasks = f"{p}:skip-tasks"

    def claim(self, task_id: UUID, key: str) -> str:
        return f"{self.prefix}:claim:{task_id}:{key}"

    def alive(self, replica: str) -> str:
        return f"{self.prefix}:alive:{replica}"

    def task(self, task_id: UUID) -> str:
        return f"{self.prefix}:task:{task_id}"

    def task_runs(self, task_id: UUID) -> str:
        return f"{self.prefix}:task-runs:{task_id}"

    def skips(self, task_id: UUID) -> str:
        return f"{self.prefix}:skips:{task_id}"


# ----- records <-> JSON -------------------------------------------------------------------
def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_run(run: RunRecord) -> str:
    return json.dumps(run_to_json(run))


def decode_run(text: str) -> RunRecord:
    return run_from_json(json.loads(text))


def _encode_skip(skip: SkipRecord) -> str:
    return json.dumps(
        {
            "task_id": str(skip.task_id),
            "task_name": skip.task_name,
            "scheduled_for": _when(skip.scheduled_for),
            "reason": skip.reason.value,
            "count": skip.count,
            "at": _when(skip.at),
        }
    )


def _decode_skip(text: str) -> SkipRecord:
    data = json.loads(text)
    scheduled_for, at = _parse_when(data["scheduled_for"]), _parse_when(data["at"])
    assert scheduled_for is not None and at is not None
    return SkipRecord(
        UUID(data["task_id"]),
        data["task_name"],
        scheduled_for,
        SkipReason(data["reason"]),
        data["count"],
        at,
    )


def decode_task(task_id: UUID, fields: dict[str, str]) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        task_name=fields.get("name", ""),
        paused=fields.get("paused") == "1",
        last_fire_time=_parse_when(fields.get("last_fire_time")),
    )


async def read_runs(client: Any, keys: RedisKeys, run_ids: list[str]) -> list[RunRecord]:
    """The stored runs of these ids, in the order given (unknown ids are left out)."""
    if not run_ids:
        return []
    texts = await client.hmget(keys.runs, run_ids)
    return [decode_run(text) for text in texts if text is not None]


def _score(run: RunRecord) -> float:
    return run.started_at.timestamp()
