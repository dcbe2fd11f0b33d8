"""FleetSource: every replica of an app, read from the Redis they share (once a second),
steered through the app's control stream. It runs no task."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4

from aioclock_core._clock import Clock
from aioclock_core.coordination import CommandKind, ControlCommand
from aioclock_core.events import Event, TaskPaused, TaskResumed
from aioclock_core.runs import RunRecord
from clocktui.inbox import ConnectionChanged, Inbox, ReplicasChanged
from clocktui.model import SchedulerPhase, Snapshot, TaskView
from clocktui.redis_reader import REDIS_TROUBLE, RedisReader
from clocktui.seeding import HistoryLoaded
from clocktui.sources.base import (
    SentToFleet,
    Source,
    SourceUnavailable,
    Verb,
    failed_future,
)
from clocktui.sources.loop_thread import LoopThread

__all__ = ["FleetSource", "POLL_SECONDS"]

POLL_SECONDS = 1.0
LOOKBACK = timedelta(seconds=30)
"""How far back each poll looks for new runs (replicas write theirs a little late)."""
_SEEN_KEPT = 100_000
"""Finished run ids remembered, so a run is shown once."""
_COMMANDS = {
    Verb.RUN_NOW: CommandKind.RUN_NOW,
    Verb.PAUSE: CommandKind.PAUSE,
    Verb.RESUME: CommandKind.RESUME,
    Verb.PAUSE_ALL: CommandKind.PAUSE_ALL,
    Verb.RESUME_ALL: CommandKind.RESUME_ALL,
}


class FleetSource(Source):
    """The replicas of `app_name` that share the Redis at `url`.

    Args:
        url: e.g. ``redis://redis.internal:6379/0``.
        app_name: The app's name (`AioClock(name=...)`).
        poll_seconds: Seconds between two reads of Redis.
        clock: The clock the console's countdowns read (default: the system clock).
    """

    shows_replicas: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        app_name: str,
        *,
        poll_seconds: float = POLL_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self.reader = RedisReader(url, app_name)
        super().__init__(app_name, f"{self.reader.where} (every replica)", clock)
        self.url = url
        self.poll_seconds = poll_seconds
        self.origin = f"console:{socket.gethostname()}"
        self.connected = False
        self._inbox: Inbox | None = None
        self._thread = LoopThread("clocktui-fleet")
        self._closing = False
        self._tasks: dict[UUID, TaskView] | None = None
        """The tasks as last read (None: start over with a snapshot)."""
        self._going: set[str] = set()
        """Runs shown as started and not yet as finished."""
        self._finished: dict[str, None] = {}

    def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._thread.start(self._poll_forever)

    def close(self) -> None:
        # The flag too, not only the thread's cancel: asyncio.wait_for on Python 3.10 and
        # 3.11 can lose a cancel that comes as the poll completes (CPython gh-86296).
        self._closing = True
        self._thread.stop()

    # ----- reading ------------------------------------------------------------------------
    async def _poll_forever(self) -> None:
        inbox = self._inbox
        assert inbox is not None
        first = True
        try:
            while not self._closing:
                try:
                    await asyncio.wait_for(self._poll(inbox), 10 * self.reader.timeout)
                except (*REDIS_TROUBLE, ValueError) as error:
                    if self.connected or first:
                        reason = str(error) or type(error).__name__
                        text = f"Redis at {self.reader.where} unreachable: {reason}"
                        inbox.post(ConnectionChanged(False, text))
                    self.connected = False
                    self._tasks = None
                else:
                    if not self.connected:
                        self.connected = True
                        text = f"attached to {self.name} at {self.reader.where}"
                        inbox.post(ConnectionChanged(True, text))
                first = False
                await asyncio.sleep(self.poll_seconds)
        finally:
            await self.reader.close()

    async def _poll(self, inbox: Inbox) -> None:
        tasks = {view.task_id: view for view in await self.reader.tasks()}
        replicas = await self.reader.replicas()
        if self._tasks is None or tasks.keys() != self._tasks.keys():
            await self._start_over(tasks, any(r.alive for r in replicas), inbox)
        else:
            events: list[Event] = []
            now = self.now()
            for task_id, view in tasks.items():
                if view.paused != self._tasks[task_id].paused:
                    kind = TaskPaused if view.paused else TaskResumed
                    events.append(kind(now, task_id, view.name))
            self._tasks = tasks
            if events:
                inbox.add_events(events)
            runs = await self._new_runs()
            if runs:
                inbox.add_runs(runs)
                inbox.runs_idle()
        inbox.post(ReplicasChanged(replicas))

    async def _start_over(self, tasks: dict[UUID, TaskView], alive: bool, inbox: Inbox) -> None:
        """A snapshot: each task's last finished run, and the runs going now."""
        now = self.now()
        for task_id, run in (await self.reader.last_finished_runs(tasks)).items():
            view = tasks[task_id]
            view.last_run = run
            if run.failed:
                view.last_failure = run
            view.recent.append(run)
        going = await self.reader.runs_by_id(await self.reader.in_flight())
        self._going = {str(run.run_id) for run in going if not run.finished}
        for run in going:
            if not run.finished and run.task_id in tasks:
                tasks[run.task_id].in_flight[run.run_id] = run.started_at
        self._finished = dict.fromkeys(
            run_id
            for run_id in await self.reader.run_ids_since(now - LOOKBACK)
            if run_id not in self._going
        )
        self._tasks = tasks
        phase = SchedulerPhase.RUNNING if alive else SchedulerPhase.STOPPED
        inbox.restart(Snapshot(self.name, phase, now, list(tasks.values()), {}))

    async def _new_runs(self) -> list[RunRecord]:
        """Runs that started or ended since the last poll, started ones first."""
        recent = await self.reader.run_ids_since(self.now() - LOOKBACK)
        unseen = [r for r in recent if r not in self._finished and r not in self._going]
        records = await self.reader.runs_by_id([*self._going, *unseen])
        found = {str(run.run_id) for run in records}
        self._going &= found  # runs dropped by retention are forgotten
        news = []
        for run in records:
            run_id = str(run.run_id)
            if run.finished:
                self._going.discard(run_id)
                self._finished[run_id] = None
                news.append(run)
            elif run_id not in self._going:
                self._going.add(run_id)
                news.append(run)
        while len(self._finished) > _SEEN_KEPT:
            del self._finished[next(iter(self._finished))]
        news.sort(key=lambda run: (run.finished, run.ended_at or run.started_at))
        return news

    # ----- what the console reads ---------------------------------------------------------
    def next_fire_times(
        self, tasks: Collection[UUID] | None = None
    ) -> Mapping[UUID, datetime | None]:
        return {}  # replicas do not write their next firings to Redis

    def load_history(self, task_ids: list[UUID], limit: int) -> None:
        inbox = self._inbox
        assert inbox is not None, "start() first"

        async def read() -> HistoryLoaded:
            runs = await asyncio.gather(*(self.reader.recent_runs(t, limit) for t in task_ids))
            paused = {t for t, view in (self._tasks or {}).items() if view.paused}
            return HistoryLoaded(dict(zip(task_ids, runs, strict=True)), paused)

        def done(future: concurrent.futures.Future[HistoryLoaded]) -> None:
            if not future.cancelled() and future.exception() is None:
                inbox.post(future.result())

        self._thread.call(read()).add_done_callback(done)

    def upcoming(self, task_id: UUID, count: int) -> concurrent.futures.Future[list[datetime]]:
        return failed_future(
            SourceUnavailable("next firings are not in Redis: attach to a replica's socket")
        )

    def send(self, verb: Verb, task_id: UUID | None = None) -> concurrent.futures.Future[Any]:
        kind = _COMMANDS.get(verb)
        if kind is None:
            return failed_future(
                SourceUnavailable(
                    f"{verb.value.replace('_', ' ')} is not shared among replicas: attach "
                    "to the replica's own control socket"
                )
            )

        async def send() -> SentToFleet:
            from aioclock_core.ext.redis import send_command

            await send_command(
                self.reader.url, self.name, ControlCommand(kind, task_id, uuid4(), self.origin)
            )
            return SentToFleet()

        return self._thread.call(send())
