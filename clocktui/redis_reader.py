"""RedisReader: what the replicas of an app wrote to Redis, read without writing anything
(for the fleet console and `clocktui history`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

from aioclock_core.runs import RunRecord
from aioclock_core.stores.redis import (
    REDIS_TROUBLE,
    RedisKeys,
    close_client,
    connect,
    describe_url,
    read_runs,
)
from clocktui.model import ReplicaView, TaskView

__all__ = ["RedisReader", "split_app", "REDIS_TROUBLE"]


def split_app(url: str) -> tuple[str, str | None]:
    """`redis://host/0?app=billing` as (`redis://host/0`, `billing`); the app is None when
    the URL names none."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    apps = [value for key, value in query if key == "app"]
    rest = urlencode([(key, value) for key, value in query if key != "app"])
    return urlunsplit(parts._replace(query=rest)), (apps[-1] if apps else None)


class RedisReader:
    """Reads one app's keys (see `aioclock_core.stores.redis.RedisKeys`) on the caller's loop.

    Args:
        url: The Redis URL (without `?app=`).
        app_name: The app's name (`AioClock(name=...)`), the namespace of its keys.
    """

    def __init__(self, url: str, app_name: str, timeout: float = 2.0) -> None:
        self.url = url
        self.app_name = app_name
        self.keys = RedisKeys(app_name)
        # redis-py types its commands as sync-or-async unions; the answers are checked here.
        self.client: Any = connect(url, timeout, "clocktui")
        self.timeout = timeout

    @property
    def where(self) -> str:
        """The URL without its password, for messages."""
        return describe_url(self.url)

    async def close(self) -> None:
        await close_client(self.client, self.timeout, "clocktui")

    async def tasks(self) -> list[TaskView]:
        """Every task the replicas registered, by name, with its paused flag."""
        keys = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(keys.task_ids)
        pipe.hgetall(keys.task_info)
        ids, info = await pipe.execute()
        ordered = sorted(ids)
        pipe = self.client.pipeline(transaction=False)
        for task in ordered:
            pipe.hgetall(keys.task(UUID(task)))
        states = await pipe.execute() if ordered else []
        views = []
        for task, state in zip(ordered, states, strict=True):
            described = json.loads(info.get(task, "{}"))
            views.append(
                TaskView(
                    task_id=UUID(task),
                    name=described.get("name") or state.get("name") or task,
                    group=described.get("group") or "",
                    trigger=described.get("trigger", ""),
                    timeout=None,
                    paused=state.get("paused") == "1",
                )
            )
        views.sort(key=lambda view: view.name)
        return views

    async def replicas(self) -> list[ReplicaView]:
        """Every replica that heartbeated, with whether its liveness key is still there."""
        keys = self.keys
        seen = await self.client.hgetall(keys.replicas)
        names = sorted(seen)
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.exists(keys.alive(name))
        alive = await pipe.execute() if names else []
        replicas = []
        for name, up in zip(names, alive, strict=True):
            beat = json.loads(seen[name])
            replicas.append(
                ReplicaView(
                    name, bool(up), _instant(beat.get("started_at")), _instant(beat.get("seen_at"))
                )
            )
        return replicas

    async def runs_by_id(self, run_ids: Iterable[str]) -> list[RunRecord]:
        """The stored runs of these ids, in the order given (unknown ids are left out)."""
        return await read_runs(self.client, self.keys, list(run_ids))

    async def recent_runs(self, task_id: UUID | None = None, limit: int = 50) -> list[RunRecord]:
        """The newest runs (of one task, or of all), newest first."""
        index = self.keys.task_runs(task_id) if task_id else self.keys.run_index
        runs = await self.runs_by_id(await self.client.zrevrange(index, 0, limit - 1))
        runs.sort(key=lambda run: run.started_at, reverse=True)
        return runs

    async def last_finished_runs(self, task_ids: Iterable[UUID]) -> dict[UUID, RunRecord]:
        """Each task's newest finished run (among its newest three)."""
        ordered = list(task_ids)
        pipe = self.client.pipeline(transaction=False)
        for task in ordered:
            pipe.zrevrange(self.keys.task_runs(task), 0, 2)
        ids = [run_id for newest in (await pipe.execute() if ordered else []) for run_id in newest]
        last: dict[UUID, RunRecord] = {}
        for run in await self.runs_by_id(ids):
            known = last.get(run.task_id)
            if run.finished and (known is None or run.started_at > known.started_at):
                last[run.task_id] = run
        return last

    async def run_ids_since(self, instant: datetime) -> list[str]:
        """Ids of the runs that started at `instant` or later."""
        return list(
            await self.client.zrangebyscore(self.keys.run_index, instant.timestamp(), "+inf")
        )

    async def in_flight(self) -> dict[str, str]:
        """Ids of the runs in progress, each with its replica."""
        return dict(await self.client.hgetall(self.keys.in_flight))


def _instant(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)
