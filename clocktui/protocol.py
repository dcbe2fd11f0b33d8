"""The control socket's protocol: JSON lines, version 1 (documented in docs/attach.md).

Every message is one JSON object on one line, with a `kind`. The client says `hello`, the
server answers `welcome` (or `refused`, then closes); then the client sends `request`s
(`id`, `verb`, arguments) and the server answers each with a `reply` of the same `id`.
After a `subscribe` request the server also pushes `runs`, `events`, `logs` and `next`.
Instants are ISO-8601 strings in UTC, ids are UUID strings, runs are `run_to_json`'s shape.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.events import Event
from aioclock_core.runs import run_from_json, run_to_json
from clocktui.bridge import EVENT_KINDS
from clocktui.logbook import LogEntry
from clocktui.model import SchedulerPhase, Snapshot, TaskView

__all__ = [
    "PROTOCOL_VERSION",
    "MAX_LINE_BYTES",
    "ProtocolError",
    "encode",
    "decode",
    "when",
    "parse_when",
    "plan_to_json",
    "plan_from_json",
    "snapshot_to_json",
    "snapshot_from_json",
    "event_to_json",
    "event_from_json",
    "log_to_json",
    "log_from_json",
]

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 64 * 1024 * 1024
"""Longest line either side reads (a snapshot or history of thousands of tasks is one)."""
_EVENT_TYPES = {kind.__name__: kind for kind in EVENT_KINDS}


class ProtocolError(Exception):
    """A line that is not a message of this protocol."""


def encode(message: Mapping[str, Any]) -> bytes:
    """One message as a line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """The message of one line.

    Raises:
        ProtocolError: Not a JSON object with a `kind`.
    """
    try:
        message = json.loads(line)
    except ValueError as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ProtocolError(f"not a message (a JSON object with a 'kind'): {line[:80]!r}")
    return message


def when(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def parse_when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# ----- next firings ---------------------------------------------------------------------
def plan_to_json(plan: Mapping[UUID, datetime | None]) -> dict[str, str | None]:
    return {str(task_id): when(instant) for task_id, instant in plan.items()}


def plan_from_json(data: Mapping[str, str | None]) -> dict[UUID, datetime | None]:
    return {UUID(task_id): parse_when(instant) for task_id, instant in data.items()}


# ----- snapshots ------------------------------------------------------------------------
def snapshot_to_json(app: AioClock, phase: SchedulerPhase) -> dict[str, Any]:
    """Every task of a serving app with its state now (call on the scheduler's loop)."""
    tasks = {task.id: task for task in app.tasks}
    described = []
    for state in app.snapshots():
        task = tasks[state.task_id]
        described.append(
            {
                "id": str(task.id),
                "name": task.name,
                "group": task.group or "",
                "trigger": task.trigger.describe(),
                "timeout": task.timeout,
                "paused": state.paused,
                "running": state.running,
                "next": when(state.next_fire_time),
                "finished": state.state.value == "finished",
                "last_run": None if state.last_run is None else run_to_json(state.last_run),
                "run_count": state.run_count,
                "failure_count": state.failure_count,
            }
        )
    return {
        "app": app.name,
        "phase": phase.name.lower(),
        "at": when(app.clock.now()),
        "tasks": described,
    }


def snapshot_from_json(data: Mapping[str, Any]) -> Snapshot:
    views = []
    plan: dict[UUID, datetime | None] = {}
    for task in data["tasks"]:
        last_run = None if task["last_run"] is None else run_from_json(task["last_run"])
        view = TaskView(
            task_id=UUID(task["id"]),
            name=task["name"],
            group=task["group"],
            trigger=task["trigger"],
            timeout=task["timeout"],
            next_fire_time=parse_when(task["next"]),
            running_unseen=task["running"],
            paused=task["paused"],
            exhausted=task["finished"],
            last_run=last_run,
            last_failure=last_run if last_run is not None and last_run.failed else None,
            run_count=task["run_count"],
            failure_count=task["failure_count"],
        )
        if last_run is not None:
            view.recent.append(last_run)
        views.append(view)
        plan[view.task_id] = view.next_fire_time
    at = parse_when(data["at"])
    assert at is not None
    return Snapshot(data["app"], SchedulerPhase[data["phase"].upper()], at, views, plan)


# ----- events ---------------------------------------------------------------------------
def event_to_json(event: Event) -> dict[str, Any]:
    """A bus event as `{"type": "TaskPaused", "at": ..., <its fields>}`."""
    data: dict[str, Any] = {"type": type(event).__name__}
    for field in dataclasses.fields(event):
        data[field.name] = _plain(getattr(event, field.name))
    return data


def event_from_json(data: Mapping[str, Any]) -> Event:
    """The event `event_to_json` gave (of the kinds the console takes: `EVENT_KINDS`)."""
    kind = _EVENT_TYPES.get(data.get("type", ""))
    if kind is None:
        raise ProtocolError(f"unknown event type {data.get('type')!r}")
    hints = typing.get_type_hints(kind)
    values = {
        field.name: _typed(hints[field.name], data[field.name])
        for field in dataclasses.fields(kind)
        if field.name in data
    }
    return kind(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        return _typed(options[0], value) if len(options) == 1 else value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is UUID:
        return UUID(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


# ----- log records ----------------------------------------------------------------------
def log_to_json(entry: LogEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "level": entry.level,
        "level_name": logging.getLevelName(entry.level),
        "logger": entry.logger,
        "message": entry.message,
        "task_id": None if entry.task_id is None else str(entry.task_id),
        "task_name": entry.task_name,
        "exception": entry.exception,
    }


def log_from_json(data: Mapping[str, Any]) -> LogEntry:
    return LogEntry(
        at=datetime.fromisoformat(data["at"]),
        level=data["level"],
        logger=data["logger"],
        message=data["message"],
        task_id=None if data["task_id"] is None else UUID(data["task_id"]),
        task_name=data["task_name"],
        exception=data.get("exception"),
    )


def logs_to_json(entries: Iterable[LogEntry]) -> list[dict[str, Any]]:
    return [log_to_json(entry) for entry in entries]
