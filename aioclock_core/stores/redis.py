"""RedisStore: run history and task state shared by every replica of an app (Redis server)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "The Redis backend needs redis-py: pip install 'clocktui[redis]' (or 'redis>=5')"
    ) from missing

from aioclock_core._clock import SYSTEM_CLOCK, Clock
from aioclock_core.events import RunOutcome, SkipReason
from aioclock_core.stores.base import (
    Retention,
    RunRecord,
    SkipRecord,
    Store,
    StoreError,
    TaskRecord,
)

__all__ = ["RedisStore", "RedisKeys", "default_replica_name", "connect", "describe_url"]

logger = logging.getLogger("aioclock.redis")

REDIS_TROUBLE = (RedisError, OSError, asyncio.TimeoutError)
"""What a lost, refused or slow connection raises (never a bug in our code)."""
_MAX_QUEUED = 100_000
"""Writes kept while Redis is unreachable; older ones are dropped beyond this."""
_BACKOFF_FIRST, _BACKOFF_MAX = 0.2, 5.0

# Drop runs beyond max_runs and older than max_age (relative to the task's newest run),
# from the task's index, the app's index, the run data and the in-flight table at once.
_RETAIN = """
local removed = {}
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess > 0 then removed = redis.call('ZRANGE', KEYS[1], 0, excess - 1) end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then
  local cutoff = tonumber(newest[2]) - tonumber(ARGV[2])
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. cutoff)) do
    table.insert(removed, id)
  end
end
for _, id in ipairs(removed) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
return #removed
"""
# Close a run only if it is still in flight: a real end written meanwhile wins.
_CLOSE_IF_OPEN = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


from aioclock_core.stores._redis_codec import (  # noqa: E402,F401 - re-exported
    RedisKeys,
    _decode_skip,
    _encode_skip,
    _parse_when,
    _score,
    _when,
    close_client,
    connect,
    decode_run,
    decode_task,
    default_replica_name,
    describe_url,
    encode_run,
    read_runs,
)

# ----- the store ----------------------------------------------------------------------------
_Write = tuple[str, Any]
"""A queued write: ("run", RunRecord), ("skip", SkipRecord), ("task", TaskRecord) or
("flush", Future) — the future is resolved once every write before it is stored."""


class RedisStore(Store):
    """History and task state in Redis, shared by every replica of one app.

    Writes are queued and a background task sends them in pipelines; while Redis is
    unreachable they wait (up to 100,000 of them) and are sent once it is back. Every
    `sweep_interval` seconds (and at open) runs left in progress by a replica whose
    liveness key expired are closed as abandoned. "Another replica claimed this firing"
    skips are not stored: the winner's run is the history of that firing.

    Args:
        url: e.g. ``redis://localhost:6379/0`` (``rediss://`` for TLS, ``unix://``).
        replica: This process's name among replicas; must equal the app's `replica`
            (the default, ``hostname-pid``, is also RedisCoordinator's default).
        retention: Runs (and skip records) kept per task, and their maximum age.
        timeout: Seconds a connection attempt or a read may take.
        sweep_interval: Seconds between sweeps for runs of dead replicas.
        clock: Time of abandoned runs' ends (default: the system clock).
    """

    def __init__(
        self,
        url: str,
        *,
        replica: str | None = None,
        retention: Retention | None = None,
        timeout: float = 2.0,
        sweep_interval: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self.url = url
        self.replica = replica or default_replica_name()
        self.retention = retention or Retention()
        self.timeout = timeout
        self.sweep_interval = sweep_interval
        self.clock = clock or SYSTEM_CLOCK
        # redis-py types its commands as sync-or-async unions; the answers are checked here.
        self._client: Any = connect(url, timeout, "RedisStore")
        self._keys: RedisKeys | None = None
        self._queue: list[_Write] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        """Set by `close` before it cancels the writer, which checks it too."""
        self._saved: dict[UUID, TaskRecord] = {}
        self._reachable = True

    @property
    def keys(self) -> RedisKeys:
        if self._keys is None:
            raise StoreError("RedisStore is not open: the app opens it when serve() starts")
        return self._keys

    async def open(self, app_name: str) -> None:
        self._keys = RedisKeys(app_name)
        try:
            await self._client.ping()
        except REDIS_TROUBLE as error:
            raise StoreError(
                f"Cannot reach Redis at {describe_url(self.url)} ({error or type(error).__name__})."
                " Start the server or fix the URL given to RedisStore."
            ) from None
        self._retain = self._client.register_script(_RETAIN)
        self._close_if_open = self._client.register_script(_CLOSE_IF_OPEN)
        self._wake = asyncio.Event()
        self._closing = False
        self._writer = asyncio.create_task(self._write_forever(), name="redis-store-writer")

    async def close(self) -> None:
        if self._writer is not None:
            try:
                await asyncio.wait_for(self.flush(), self.timeout * 2)
            except (StoreError, asyncio.TimeoutError):
                logger.warning(
                    "RedisStore: %d write(s) not stored at close (Redis %s unreachable)",
                    len(self._queue),
                    describe_url(self.url),
                )
            # The flag too, not only cancel(): see RedisCoordinator._stopping (wait_for can
            # lose a cancel on Python 3.10 and 3.11).
            self._closing = True
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        await close_client(self._client, self.timeout, "RedisStore")
        self._client = connect(self.url, self.timeout, "RedisStore")

    # ----- queued writes (called on the scheduler's loop: never block) --------------------
    def _enqueue(self, write: _Write) -> None:
        queue = self._queue
        queue.append(write)
        if len(queue) > _MAX_QUEUED:
            del queue[: len(queue) - _MAX_QUEUED]
        self._wake.set()

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        for record in runs:
            self._enqueue(("run", record))

    def record_skip(self, record: SkipRecord) -> None:
        if record.reason is not SkipReason.ELSEWHERE:
            self._enqueue(("skip", record))

    def save_task(self, record: TaskRecord) -> None:
        self._enqueue(("task", record))

    async def flush(self) -> None:
        """Return once everything queued is stored; raise StoreError at once while Redis
        is unreachable (the writes stay queued and are retried)."""
        if self._writer is None or self._writer.done():
            return
        if not self._reachable:
            raise self._unreachable_error()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(("flush", done))
        await done

    def _unreachable_error(self) -> StoreError:
        return StoreError(
            f"Redis at {describe_url(self.url)} is unreachable: "
            f"{sum(kind != 'flush' for kind, _ in self._queue)} write(s) wait and are "
            "retried while the app runs"
        )

    # ----- the writer -------------------------------------------------------------------------
    async def _write_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        backoff = _BACKOFF_FIRST
        while not self._closing:
            try:
                if loop.time() >= next_sweep:
                    await self.sweep_abandoned()
                    next_sweep = loop.time() + self.sweep_interval
                if self._queue:
                    batch, self._queue = self._queue, []
                    try:
                        await self._write(batch)
                    except BaseException:
                        self._queue[:0] = batch  # keep the order: retry them first
                        raise
                self._note_reachable()
                backoff = _BACKOFF_FIRST
                if not self._queue:
                    self._wake.clear()
                    wait = max(0.0, next_sweep - loop.time())
                    try:
                        await asyncio.wait_for(self._wake.wait(), wait)
                    except asyncio.TimeoutError:
                        pass
            except REDIS_TROUBLE as error:
                self._note_unreachable(error)
                self._fail_flushes()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)

    def _note_unreachable(self, error: BaseException) -> None:
        if self._reachable:
            self._reachable = False
            logger.warning(
                "RedisStore: Redis at %s unreachable (%s); %d write(s) wait, retrying",
                describe_url(self.url),
                error or type(error).__name__,
                len(self._queue),
            )

    def _fail_flushes(self) -> None:
        """Whoever waits in flush() hears now that Redis is down, not when it is back."""
        waiting = [record for kind, record in self._queue if kind == "flush"]
        if waiting:
            self._queue = [write for write in self._queue if write[0] != "flush"]
            error = self._unreachable_error()
            for done in waiting:
                if not done.done():
                    done.set_exception(error)

    def _note_reachable(self) -> None:
        if not self._reachable:
            self._reachable = True
            logger.info("RedisStore: Redis at %s reachable again", describe_url(self.url))

    async def _write(self, batch: list[_Write]) -> None:
        keys = self.keys
        pipe = self._client.pipeline(transaction=False)
        touched: set[UUID] = set()
        flushed: list[asyncio.Future[None]] = []
        for kind, record in batch:
            if kind == "run":
                self._queue_run(pipe, keys, record)
                touched.add(record.task_id)
            elif kind == "skip":
                name = keys.skips(record.task_id)
                pipe.lpush(name, _encode_skip(record))
                pipe.ltrim(name, 0, self.retention.max_runs - 1)
                pipe.sadd(keys.skip_tasks, str(record.task_id))
            elif kind == "task":
                self._queue_task(pipe, keys, record)
            else:
                flushed.append(record)
        max_age = self.retention.max_age.total_seconds()
        for task_id in touched:
            await self._retain(
                keys=[keys.task_runs(task_id), keys.run_index, keys.runs, keys.in_flight],
                args=[self.retention.max_runs, max_age],
                client=pipe,
            )
        if len(pipe):
            await pipe.execute()
        for future in flushed:
            if not future.done():
                future.set_result(None)

    @staticmethod
    def _queue_run(pipe: Any, keys: RedisKeys, run: RunRecord) -> None:
        run_id = str(run.run_id)
        pipe.hset(keys.runs, run_id, encode_run(run))
        pipe.zadd(keys.run_index, {run_id: _score(run)})
        pipe.zadd(keys.task_runs(run.task_id), {run_id: _score(run)})
        if run.outcome is None:
            pipe.hset(keys.in_flight, run_id, run.replica or "")
        else:
            pipe.hdel(keys.in_flight, run_id)

    def _queue_task(self, pipe: Any, keys: RedisKeys, task: TaskRecord) -> None:
        # Only changed fields: a replica updating last_fire_time must not write back a
        # paused flag another replica changed meanwhile.
        before = self._saved.get(task.task_id)
        fields: dict[str, str] = {"name": task.task_name}
        if before is None or before.paused != task.paused:
            fields["paused"] = "1" if task.paused else "0"
        if task.last_fire_time is not None and (
            before is None or before.last_fire_time != task.last_fire_time
        ):
            fields["last_fire_time"] = task.last_fire_time.isoformat()
        self._saved[task.task_id] = task
        pipe.hset(keys.task(task.task_id), mapping=fields)
        pipe.sadd(keys.task_ids, str(task.task_id))

    # ----- reads ------------------------------------------------------------------------------
    async def _read(self) -> Any:
        """Flush queued writes (so reads see them), bounded by the timeout."""
        try:
            await asyncio.wait_for(self.flush(), self.timeout * 2)
        except asyncio.TimeoutError:
            raise StoreError(
                f"Redis at {describe_url(self.url)} is unreachable: cannot read history"
            ) from None
        return self._client

    async def load_tasks(self) -> dict[UUID, TaskRecord]:
        client = await self._read()
        ids = sorted(await client.smembers(self.keys.task_ids))
        pipe = client.pipeline(transaction=False)
        for task_id in ids:
            pipe.hgetall(self.keys.task(UUID(task_id)))
        tasks = {}
        for task_id, fields in zip(ids, await pipe.execute(), strict=True):
            if fields:
                record = decode_task(UUID(task_id), fields)
                tasks[record.task_id] = record
        self._saved.update(tasks)
        return tasks

    @property
    def client(self) -> aioredis.Redis:
        """The Redis client (for readers of the other keys of the app, such as consoles)."""
        return self._client

    async def runs_by_id(self, run_ids: Iterable[str]) -> list[RunRecord]:
        """The stored runs of these ids (unknown ids are left out)."""
        return await read_runs(self._client, self.keys, list(run_ids))

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        client = await self._read()
        index = self.keys.task_runs(task_id) if task_id else self.keys.run_index
        runs = await self.runs_by_id(await client.zrevrange(index, 0, limit - 1))
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return runs

    async def recent_skips(self, task_id: UUID | None = None, limit: int = 50) -> list[SkipRecord]:
        client = await self._read()
        if task_id is not None:
            ids = [str(task_id)]
        else:
            ids = sorted(await client.smembers(self.keys.skip_tasks))
        pipe = client.pipeline(transaction=False)
        for one in ids:
            pipe.lrange(self.keys.skips(UUID(one)), 0, limit - 1)
        skips = [_decode_skip(text) for texts in await pipe.execute() for text in texts]
        skips.sort(key=lambda s: s.at, reverse=True)
        return skips[:limit]

    async def in_flight(self) -> dict[str, str]:
        """Run ids in progress, each with the replica running it ("" if unnamed)."""
        client = await self._read()
        return dict(await client.hgetall(self.keys.in_flight))

    # ----- runs left open ---------------------------------------------------------------------
    async def mark_interrupted(self, at: datetime) -> list[RunRecord]:
        """Close the runs this replica (or an unnamed process) left in progress."""
        left = await self.in_flight()
        mine = [run_id for run_id, replica in left.items() if replica in ("", self.replica)]
        return await self._close(mine, at, RunOutcome.INTERRUPTED, None)

    async def sweep_abandoned(self, at: datetime | None = None) -> list[RunRecord]:
        """Close the runs of replicas that stopped heartbeating (their liveness key
        expired) as abandoned; returns them. Replicas never registered are left alone."""
        client = self._client
        keys = self.keys
        left = await client.hgetall(keys.in_flight)
        others = {r for r in left.values() if r not in ("", self.replica)}
        if not others:
            return []
        known = await client.hgetall(keys.replicas)
        candidates = sorted(r for r in others if r in known)
        pipe = client.pipeline(transaction=False)
        for replica in candidates:
            pipe.exists(keys.alive(replica))
        dead = {r for r, alive in zip(candidates, await pipe.execute(), strict=True) if not alive}
        gone = [run_id for run_id, replica in left.items() if replica in dead]
        closed = await self._close(gone, at or self.clock.now(), RunOutcome.ABANDONED, dead)
        for run in closed:
            logger.warning(
                "Task %s: run %s on replica %s was abandoned (the replica stopped "
                "heartbeating during it)",
                run.task_name,
                run.run_id,
                run.replica,
            )
        return closed

    async def _close(
        self, run_ids: list[str], at: datetime, outcome: RunOutcome, dead: set[str] | None
    ) -> list[RunRecord]:
        closed = []
        for run in await self.runs_by_id(run_ids):
            if run.outcome is not None:
                continue
            duration = max(0.0, (at - run.started_at).total_seconds())
            message = (
                None
                if dead is None
                else f"replica {run.replica} stopped heartbeating during the run"
            )
            ended = replace(
                run, ended_at=at, outcome=outcome, duration=duration, error_message=message
            )
            written = await self._close_if_open(
                keys=[self.keys.in_flight, self.keys.runs],
                args=[str(run.run_id), encode_run(ended)],
            )
            if written:
                closed.append(ended)
        return closed
