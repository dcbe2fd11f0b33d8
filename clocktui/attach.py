"""`clocktui attach URL --app NAME`: a console of a fleet of replicas, read from Redis.

It runs no task: it polls what replicas write to Redis (their tasks, task states, runs
and heartbeats) once a second, and sends control commands on the app's control stream.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar
from uuid import UUID, uuid4

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from aioclock_core.coordination import CommandKind, ControlCommand
from aioclock_core.stores import RunRecord, StoreError
from clocktui.formatting import format_duration, inert, outcome_word

__all__ = ["FleetTask", "FleetReplica", "Fleet", "FleetReader", "AttachConsole", "run_attach"]

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class FleetTask:
    task_id: UUID
    name: str
    trigger: str = ""
    group: str | None = None
    paused: bool = False
    last_run: RunRecord | None = None


@dataclass(frozen=True)
class FleetReplica:
    name: str
    alive: bool
    seen_at: str = ""


@dataclass(frozen=True)
class Fleet:
    """One reading of the fleet: every task known to Redis and every replica."""

    tasks: list[FleetTask] = field(default_factory=list)
    replicas: list[FleetReplica] = field(default_factory=list)


class FleetReader:
    """Reads a fleet from Redis and sends it commands (on the caller's event loop)."""

    def __init__(self, url: str, app_name: str) -> None:
        from aioclock_core.ext.redis import RedisCoordinator  # noqa: F401  (checks redis-py)
        from aioclock_core.stores.redis import RedisKeys, RedisStore

        self.url = url
        self.app_name = app_name
        self.origin = f"console:{socket.gethostname()}"
        self.keys = RedisKeys(app_name)
        self.store = RedisStore(url, replica=self.origin, sweep_interval=3600)

    async def open(self) -> None:
        await self.store.open(self.app_name)

    async def close(self) -> None:
        await self.store.close()

    async def read(self) -> Fleet:
        keys = self.keys
        client: Any = self.store.client
        pipe = client.pipeline(transaction=False)
        pipe.smembers(keys.task_ids)
        pipe.hgetall(keys.task_info)
        pipe.hgetall(keys.replicas)
        ids, info, seen = await pipe.execute()
        pipe = client.pipeline(transaction=False)
        ordered = sorted(ids)
        for task in ordered:
            pipe.hgetall(keys.task(UUID(task)))
            pipe.zrevrange(keys.task_runs(UUID(task)), 0, 0)
        for name in sorted(seen):
            pipe.exists(keys.alive(name))
        answers = await pipe.execute()
        last_ids = [ids[0] for ids in answers[1 : 2 * len(ordered) : 2] if ids]
        last = {run.task_id: run for run in await self.store.runs_by_id(last_ids)}
        tasks = []
        for index, task in enumerate(ordered):
            task_id, state = UUID(task), answers[2 * index]
            described = json.loads(info.get(task, "{}"))
            tasks.append(
                FleetTask(
                    task_id,
                    described.get("name") or state.get("name") or task,
                    described.get("trigger", ""),
                    described.get("group"),
                    state.get("paused") == "1",
                    last.get(task_id),
                )
            )
        tasks.sort(key=lambda t: t.name)
        alive = answers[2 * len(ordered) :]
        replicas = [
            FleetReplica(name, bool(up), json.loads(seen[name]).get("seen_at", ""))
            for name, up in zip(sorted(seen), alive, strict=True)
        ]
        return Fleet(tasks, replicas)

    async def send(self, kind: CommandKind, task_id: UUID | None = None) -> None:
        from aioclock_core.ext.redis import send_command

        await send_command(
            self.url, self.app_name, ControlCommand(kind, task_id, uuid4(), self.origin)
        )


class AttachConsole(App[int]):
    """The fleet console: a task table, a replicas table, keys to control every replica."""

    TITLE = "clocktui (attached)"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_now", "Run now"),
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("P", "pause_all", "Pause all"),
        Binding("R", "resume_all", "Resume all"),
        Binding("q", "quit", "Quit"),
    ]
    DEFAULT_CSS = """
    #tasks { height: 3fr; }
    #replicas { height: 1fr; }
    #status { height: 1; background: $panel; }
    """

    def __init__(self, reader: FleetReader, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self.reader = reader
        self.poll_seconds = poll_seconds
        self.fleet = Fleet()
        self.sub_title = f"{reader.app_name} @ {reader.url.rsplit('@', 1)[-1]}"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="status")
        tasks: DataTable[Text] = DataTable(id="tasks", cursor_type="row")
        tasks.add_columns(
            "Task", "Group", "Trigger", "State", "Last run", "Took", "Outcome", "Replica"
        )
        yield tasks
        replicas: DataTable[Text] = DataTable(id="replicas", cursor_type="none")
        replicas.add_columns("Replica", "Liveness", "Last heartbeat")
        yield replicas
        yield Footer()

    async def on_mount(self) -> None:
        try:
            await self.reader.open()
        except StoreError as error:
            self.exit(1, message=f"clocktui: error: {error}")
            return
        await self.refresh_fleet()
        self.set_interval(self.poll_seconds, self.refresh_fleet)

    async def on_unmount(self) -> None:
        await self.reader.close()

    async def refresh_fleet(self) -> None:
        status = self.query_one("#status", Static)
        try:
            self.fleet = await asyncio.wait_for(self.reader.read(), 5.0)
        except Exception as error:  # a console shows trouble, it does not crash on it
            status.update(Text(f"Redis unreachable: {error!r}", style="bold red"))
            return
        alive = sum(r.alive for r in self.fleet.replicas)
        status.update(Text(f"{len(self.fleet.tasks)} tasks, {alive} live replica(s)"))
        self._show_tasks()
        self._show_replicas()

    def _show_tasks(self) -> None:
        table: DataTable[Text] = self.query_one("#tasks", DataTable)
        row = table.cursor_row
        table.clear()
        for task in self.fleet.tasks:
            run = task.last_run
            table.add_row(
                Text(inert(task.name)),
                Text(inert(task.group or "")),
                Text(task.trigger),
                Text("paused" if task.paused else "active"),
                Text(_clock_time(run.started_at) if run else ""),
                Text(format_duration(run.duration) if run and run.duration is not None else ""),
                Text(outcome_word(run.outcome) if run else ""),
                Text(inert(run.replica or "") if run else ""),
                key=str(task.task_id),
            )
        if self.fleet.tasks:
            table.move_cursor(row=min(row, len(self.fleet.tasks) - 1))

    def _show_replicas(self) -> None:
        table: DataTable[Text] = self.query_one("#replicas", DataTable)
        table.clear()
        for replica in self.fleet.replicas:
            liveness = Text("alive", "green") if replica.alive else Text("gone", "red")
            table.add_row(Text(inert(replica.name)), liveness, Text(replica.seen_at))

    def _selected(self) -> FleetTask | None:
        table: DataTable[Text] = self.query_one("#tasks", DataTable)
        if not self.fleet.tasks or table.cursor_row >= len(self.fleet.tasks):
            return None
        return self.fleet.tasks[table.cursor_row]

    async def _send(self, kind: CommandKind, task: FleetTask | None, what: str) -> None:
        try:
            await self.reader.send(kind, task.task_id if task else None)
        except Exception as error:
            self.notify(inert(f"Could not send {what}: {error!r}"), severity="error", markup=False)
            return
        self.notify(inert(f"Sent {what}"), timeout=2, markup=False)

    async def action_run_now(self) -> None:
        task = self._selected()
        if task is not None:
            await self._send(CommandKind.RUN_NOW, task, f"run now: {task.name}")

    async def action_toggle_pause(self) -> None:
        task = self._selected()
        if task is not None:
            kind = CommandKind.RESUME if task.paused else CommandKind.PAUSE
            await self._send(kind, task, f"{kind.value}: {task.name}")

    async def action_pause_all(self) -> None:
        await self._send(CommandKind.PAUSE_ALL, None, "pause all")

    async def action_resume_all(self) -> None:
        await self._send(CommandKind.RESUME_ALL, None, "resume all")


def _clock_time(instant: datetime) -> str:
    return instant.astimezone(datetime.now(timezone.utc).astimezone().tzinfo).strftime("%H:%M:%S")


def run_attach(url: str, app_name: str) -> int:
    """The attach console's entry point (`clocktui attach URL --app NAME`); returns the
    exit code."""
    try:
        reader = FleetReader(url, app_name)
    except (ValueError, ImportError) as error:
        print(f"clocktui: error: {error}", file=sys.stderr)
        return 2
    console = AttachConsole(reader)
    code = console.run()
    return 0 if code is None else code
