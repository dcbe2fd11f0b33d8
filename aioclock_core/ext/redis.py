"""RedisCoordinator: replicas of one app share firings (claims), control and liveness."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from aioclock_core.coordination import (
    Claim,
    CommandHandler,
    CommandKind,
    ControlCommand,
    Coordinator,
    UnavailablePolicy,
)
from aioclock_core.stores.redis import (
    REDIS_TROUBLE,
    RedisKeys,
    RedisStore,
    close_client,
    connect,
    default_replica_name,
    describe_url,
)
from aioclock_core.task import Task

__all__ = [
    "RedisCoordinator",
    "RedisStore",
    "send_command",
    "encode_command",
    "decode_command",
]

logger = logging.getLogger("aioclock.redis")

_BACKOFF_FIRST, _BACKOFF_MAX = 0.2, 5.0
_CONTROL_KEEP = 1000
"""Commands kept in the control stream (a replica that reconnects reads what it missed)."""
_BLOCK_MS = 1000


def encode_command(command: ControlCommand) -> dict[str, str]:
    """A command as the fields of a control-stream entry."""
    return {
        "kind": command.kind.value,
        "task_id": "" if command.task_id is None else str(command.task_id),
        "request_id": str(command.request_id),
        "origin": command.origin,
    }


def decode_command(fields: dict[str, str]) -> ControlCommand:
    """The command of a control-stream entry (ValueError/KeyError if malformed)."""
    task = fields.get("task_id") or None
    return ControlCommand(
        kind=CommandKind(fields["kind"]),
        task_id=None if task is None else UUID(task),
        request_id=UUID(fields["request_id"]),
        origin=fields["origin"],
    )


async def send_command(url: str, app_name: str, command: ControlCommand) -> None:
    """Send a control command to every replica of `app_name` (what a console does).

    Raises the Redis error if the server cannot be reached."""
    client: Any = connect(url, 2.0, "send_command")
    try:
        await client.xadd(
            RedisKeys(app_name).control,
            encode_command(command),
            maxlen=_CONTROL_KEEP,
            approximate=True,
        )
    finally:
        await close_client(client, 2.0, "send_command")


class RedisCoordinator(Coordinator):
    """Each firing runs on exactly one replica; pause, resume and run-now reach all of them.

    A run is claimed with ``SET <claim key> <replica> NX PX <ttl>``; claims made in the
    same loop iteration share one round trip. Control commands travel on a Redis stream
    (`clocktui:{app}:control`), so a replica that reconnects reads what it missed. A
    heartbeat keeps `clocktui:{app}:alive:<replica>` alive while the process is.

    Nothing here raises into the scheduler when Redis is down: claims answer with an
    error (the `policy` decides), and the heartbeat and listener retry with backoff,
    logging a WARNING when Redis is lost and an INFO when it is back.

    Args:
        url: e.g. ``redis://localhost:6379/0`` (the same for every replica).
        replica: This process's name (default ``hostname-pid``); give each replica a
            stable, distinct name (e.g. the pod name) to recognise it across restarts.
        policy: What to do with a firing while Redis is unreachable (default: skip it).
        timeout: Seconds a claim may take before it counts as unavailable.
        heartbeat_interval: Seconds between liveness refreshes.
        liveness_ttl: Seconds after the last heartbeat a replica counts as dead.
    """

    def __init__(
        self,
        url: str,
        *,
        replica: str | None = None,
        policy: UnavailablePolicy = UnavailablePolicy.SKIP,
        timeout: float = 0.5,
        heartbeat_interval: float = 3.0,
        liveness_ttl: float = 10.0,
    ) -> None:
        if not isinstance(policy, UnavailablePolicy):
            raise TypeError(
                f"RedisCoordinator: policy must be UnavailablePolicy.SKIP or .RUN, got {policy!r}"
            )
        if not 0 < heartbeat_interval < liveness_ttl:
            raise ValueError(
                "RedisCoordinator: need 0 < heartbeat_interval < liveness_ttl, got "
                f"heartbeat_interval={heartbeat_interval!r}, liveness_ttl={liveness_ttl!r}"
            )
        self.url = url
        self.replica = replica or default_replica_name()
        self.policy = policy
        self.timeout = timeout
        self.heartbeat_interval = heartbeat_interval
        self.liveness_ttl = liveness_ttl
        # redis-py types its commands as sync-or-async unions; the answers are checked here.
        self._client: Any = connect(url, timeout, "RedisCoordinator")
        self._keys: RedisKeys | None = None
        self._on_command: CommandHandler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        """Set by `stop` before it cancels the loops, which also check it: on Python 3.10
        and 3.11 `asyncio.wait_for` returns the awaited result when its task is cancelled
        just as that completes (CPython gh-86296), so a loop stopped by `cancel()` alone
        could lose the cancel and beat on, and `stop` wait for it forever (a replica
        that did not stop on SIGTERM in tests/replicas)."""
        self._batch: list[tuple[str, int, asyncio.Future[Claim]]] = []
        self._sender: asyncio.Task[None] | None = None
        self._available = True
        self._started_at = ""

    # ----- life ---------------------------------------------------------------------------
    async def start(
        self, app_name: str, on_command: CommandHandler, tasks: Sequence[Task] = ()
    ) -> None:
        self._keys = RedisKeys(app_name)
        self._on_command = on_command
        self._stopping = False
        self._started_at = datetime.now(timezone.utc).isoformat()
        app_tasks = list(tasks)
        try:
            await self._beat()
            if app_tasks:
                await self.register_tasks(app_tasks)
            last_id = await self._latest_command_id()
        except REDIS_TROUBLE as error:
            self._lost(error)
            last_id = "$"
        self._tasks = [
            asyncio.create_task(self._heartbeat_forever(), name="redis-heartbeat"),
            asyncio.create_task(self._listen_forever(last_id), name="redis-control-listener"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._keys is not None:
            try:
                pipe = self._client.pipeline(transaction=False)
                pipe.delete(self._keys.alive(self.replica))
                pipe.hdel(self._keys.replicas, self.replica)
                await pipe.execute()
            except REDIS_TROUBLE as error:
                logger.info("RedisCoordinator: could not unregister %s: %s", self.replica, error)
        await close_client(self._client, self.timeout, "RedisCoordinator")
        self._client = connect(self.url, self.timeout, "RedisCoordinator")

    async def register_tasks(self, tasks: Iterable[Task]) -> None:
        """Describe the tasks (name, trigger, group) for consoles attached to Redis."""
        keys = self._require_keys()
        info = {
            str(task.id): json.dumps(
                {"name": task.name, "trigger": task.trigger.describe(), "group": task.group}
            )
            for task in tasks
        }
        if info:
            pipe = self._client.pipeline(transaction=False)
            pipe.hset(keys.task_info, mapping=info)
            pipe.sadd(keys.task_ids, *info)
            await pipe.execute()

    def _require_keys(self) -> RedisKeys:
        if self._keys is None:
            raise RuntimeError("RedisCoordinator is not started: the app starts it in serve()")
        return self._keys

    # ----- availability ---------------------------------------------------------------------
    def _lost(self, error: BaseException) -> None:
        if self._available:
            self._available = False
            logger.warning(
                "RedisCoordinator %s: Redis at %s unreachable (%s); firings follow the "
                "%r policy until it is back",
                self.replica,
                describe_url(self.url),
                _reason(error),
                self.policy.value,
            )

    def _recovered(self) -> None:
        if not self._available:
            self._available = True
            logger.info(
                "RedisCoordinator %s: Redis at %s reachable again",
                self.replica,
                describe_url(self.url),
            )

    # ----- claims ---------------------------------------------------------------------------
    async def claim(self, task_id: UUID, key: str, ttl: float) -> Claim:
        if self._keys is None:
            return Claim(won=False, error="RedisCoordinator is not started")
        future: asyncio.Future[Claim] = asyncio.get_running_loop().create_future()
        self._batch.append((self._keys.claim(task_id, key), max(1, round(ttl * 1000)), future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_claims())
        return await future

    async def _send_claims(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            try:
                answers = await asyncio.wait_for(self._set_claims(batch), self.timeout * 2)
            except REDIS_TROUBLE as error:
                self._lost(error)
                failed = Claim(won=False, error=f"Redis unreachable: {_reason(error)}")
                answers = [failed] * len(batch)
            else:
                self._recovered()
            for (_, _, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)

    async def _set_claims(self, batch: list[tuple[str, int, Any]]) -> list[Claim]:
        pipe = self._client.pipeline(transaction=False)
        for name, ttl_ms, _ in batch:
            pipe.set(name, self.replica, nx=True, px=ttl_ms)
            pipe.get(name)
        results = await pipe.execute()
        return [
            Claim(won=True) if results[2 * i] else Claim(won=False, holder=results[2 * i + 1])
            for i in range(len(batch))
        ]

    # ----- control --------------------------------------------------------------------------
    async def broadcast(self, command: ControlCommand) -> None:
        keys = self._require_keys()
        try:
            await self._client.xadd(
                keys.control,
                encode_command(command),
                maxlen=_CONTROL_KEEP,
                approximate=True,
            )
        except REDIS_TROUBLE as error:
            self._lost(error)
            logger.warning(
                "RedisCoordinator %s: %s of %s applied here only: %s",
                self.replica,
                command.kind.value,
                command.task_id or "every task",
                _reason(error),
            )

    async def _latest_command_id(self) -> str:
        latest = await self._client.xrevrange(self._require_keys().control, count=1)
        return latest[0][0] if latest else "0-0"

    async def _listen_forever(self, last_id: str) -> None:
        keys = self._require_keys()
        listener: Any = connect(self.url, self.timeout + _BLOCK_MS / 1000, "RedisCoordinator")
        backoff = _BACKOFF_FIRST
        try:
            while not self._stopping:
                try:
                    if last_id == "$":  # never connected: start from now
                        last_id = await self._latest_command_id()
                    answer = await listener.xread({keys.control: last_id}, block=_BLOCK_MS)
                    backoff = _BACKOFF_FIRST
                    self._recovered()
                except REDIS_TROUBLE as error:
                    self._lost(error)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _BACKOFF_MAX)
                    continue
                for _, entries in answer or []:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        await self._apply(fields)
        finally:
            await close_client(listener, self.timeout, "RedisCoordinator")

    async def _apply(self, fields: dict[str, str]) -> None:
        try:
            command = decode_command(fields)
        except (KeyError, ValueError) as error:
            logger.warning("RedisCoordinator: ignored a malformed command %r: %s", fields, error)
            return
        if command.origin == self.replica or self._on_command is None:
            return
        try:
            await self._on_command(command)
        except Exception:
            logger.exception("RedisCoordinator: applying %r failed", command)

    # ----- liveness -------------------------------------------------------------------------
    async def _beat(self) -> None:
        keys = self._require_keys()
        seen = json.dumps(
            {"started_at": self._started_at, "seen_at": datetime.now(timezone.utc).isoformat()}
        )
        pipe = self._client.pipeline(transaction=False)
        pipe.set(keys.alive(self.replica), seen, px=round(self.liveness_ttl * 1000))
        pipe.hset(keys.replicas, self.replica, seen)
        await pipe.execute()

    async def _heartbeat_forever(self) -> None:
        next_at = time.monotonic()
        while not self._stopping:
            # Steady deadlines: a slow beat does not push every later one back.
            next_at = max(next_at + self.heartbeat_interval, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())
            try:
                await asyncio.wait_for(self._beat(), self.timeout * 2)
            except REDIS_TROUBLE as error:
                self._lost(error)
            else:
                self._recovered()


def _reason(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
