"""SocketSource: a headless app seen through its control socket (`clocktui attach`); it
reconnects, starting over from a fresh snapshot, whenever the connection is lost."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import threading
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from aioclock_core._clock import Clock
from aioclock_core.runs import run_from_json
from clocktui import __version__
from clocktui.inbox import ConnectionChanged, Inbox
from clocktui.protocol import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    ProtocolError,
    decode,
    encode,
    event_from_json,
    log_from_json,
    parse_when,
    plan_from_json,
    snapshot_from_json,
)
from clocktui.seeding import HistoryLoaded
from clocktui.socket_access import ControlSocketError, user_name
from clocktui.sources.base import Source, SourceUnavailable, Verb
from clocktui.sources.loop_thread import LoopThread

__all__ = ["SocketSource", "probe"]

FIRST_RETRY = 0.25
"""Seconds before the first reconnection attempt; doubled up to `LAST_RETRY`."""
LAST_RETRY = 2.0
_REPLY_TIMEOUT = 30.0


class _Refused(Exception):
    """The app refused this client (the message says why)."""


def probe(path: Path, timeout: float = 5.0) -> str:
    """Connect to `path` and say hello, to fail before a screen starts; returns the app's
    name.

    Raises:
        ControlSocketError: Nothing to attach to, or not allowed; the message says what to do.
    """
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(str(path))
        connection.sendall(encode(_hello(read_only=True)))
        answer = decode(connection.makefile("rb").readline())
    except FileNotFoundError:
        raise ControlSocketError(
            f"No control socket at {path}: is the app running? Start it with `clocktui run "
            "TARGET --headless` (it listens there by default), or pass the socket's path "
            "(`clocktui attach /path/to/app.sock`)."
        ) from None
    except PermissionError:
        raise ControlSocketError(
            f"Permission denied on {path}: the socket belongs to {_owner(path)}; attach as "
            "that user."
        ) from None
    except ConnectionRefusedError:
        raise ControlSocketError(
            f"Nothing listens on {path}: the app that made it has stopped. Start it again "
            "(`clocktui run TARGET --headless`)."
        ) from None
    except (OSError, ProtocolError) as error:
        raise ControlSocketError(f"Cannot attach to {path}: {error}") from None
    finally:
        connection.close()
    if answer["kind"] != "welcome":
        raise ControlSocketError(f"{path}: {answer.get('message', answer)}")
    return str(answer.get("app", ""))


def _owner(path: Path) -> str:
    for candidate in (path, path.parent):
        with contextlib.suppress(OSError):
            return user_name(candidate.stat().st_uid)
    return "another user"


def _hello(read_only: bool) -> dict[str, Any]:
    return {
        "kind": "hello",
        "protocol": PROTOCOL_VERSION,
        "client": f"clocktui {__version__} attach (pid {os.getpid()})",
        "read_only": read_only,
    }


class SocketSource(Source):
    """An app served elsewhere on this machine, through its control socket at `path`.

    Args:
        path: The socket (see `clocktui.socket_access.default_socket_path`).
        read_only: Tell the app this client sends no commands (it refuses any).
        clock: The clock the console's countdowns read (default: the system clock).
    """

    def __init__(self, path: Path, *, read_only: bool = False, clock: Clock | None = None) -> None:
        super().__init__(path.stem, str(path), clock)
        self.path = path
        self.read_only = read_only
        self.connected = False
        self._inbox: Inbox | None = None
        self._thread = LoopThread("clocktui-attach")
        self._plan: dict[UUID, datetime | None] = {}
        self._plan_lock = threading.Lock()
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._numbers = 0

    # ----- life -------------------------------------------------------------------------
    def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._thread.start(self._connect_forever)

    def close(self) -> None:
        self._thread.stop()

    async def _connect_forever(self) -> None:
        inbox = self._inbox
        assert inbox is not None
        delay = FIRST_RETRY
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    str(self.path), limit=MAX_LINE_BYTES
                )
            except OSError as error:
                reason = error.strerror or type(error).__name__
            else:
                try:
                    reason = await self._converse(reader, writer, inbox)
                    delay = FIRST_RETRY
                except _Refused as refused:
                    reason = str(refused)
                except (OSError, ProtocolError, ValueError, KeyError) as error:
                    reason = f"{type(error).__name__}: {error}"
                finally:
                    self._hang_up(writer)
            if self.connected or delay == FIRST_RETRY:
                inbox.post(ConnectionChanged(False, f"{self.path}: {reason}"))
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY)

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, inbox: Inbox
    ) -> str:
        """Say hello, subscribe, then take updates until the app hangs up; returns why."""
        writer.write(encode(_hello(self.read_only)))
        answer = decode(await reader.readline())
        if answer["kind"] != "welcome":
            raise _Refused(answer.get("message", "refused"))
        self.name = answer.get("app") or self.name
        self._writer = writer
        subscribed = asyncio.ensure_future(self._ask({"verb": "subscribe"}))
        subscribed.add_done_callback(lambda done: self._on_snapshot(done, inbox))
        while True:
            line = await reader.readline()
            if not line:
                return "the app closed the connection (stopped or restarting)"
            self._take(decode(line), inbox)

    def _on_snapshot(self, done: asyncio.Future[Any], inbox: Inbox) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        snapshot = snapshot_from_json(done.result())
        with self._plan_lock:
            self._plan = dict(snapshot.next_fire_times)
        self.connected = True
        inbox.restart(snapshot)
        inbox.post(ConnectionChanged(True, f"attached to {snapshot.app_name} at {self.path}"))

    def _take(self, message: dict[str, Any], inbox: Inbox) -> None:
        kind = message["kind"]
        if kind == "reply":
            waiting = self._waiting.pop(message.get("id", -1), None)
            if waiting is not None and not waiting.done():
                if "error" in message:
                    waiting.set_exception(SourceUnavailable(message["error"]))
                else:
                    waiting.set_result(message.get("result"))
        elif kind == "runs":
            self._update_plan(message.get("next", {}))
            inbox.add_runs([run_from_json(run) for run in message["runs"]])
            inbox.runs_idle()
        elif kind == "events":
            inbox.add_events([event_from_json(event) for event in message["events"]])
        elif kind == "logs":
            inbox.add_logs([log_from_json(entry) for entry in message["logs"]])
        elif kind == "next":
            self._update_plan(message["next"])

    def _update_plan(self, data: Mapping[str, str | None]) -> None:
        if data:
            with self._plan_lock:
                self._plan.update(plan_from_json(data))

    def _hang_up(self, writer: asyncio.StreamWriter) -> None:
        self._writer = None
        writer.close()
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(SourceUnavailable("the connection to the app was lost"))

    async def _ask(self, request: dict[str, Any]) -> Any:
        """Send a request on the loop thread and wait for its reply."""
        writer = self._writer
        if writer is None:
            raise SourceUnavailable(f"not attached to the app at {self.path}: retrying")
        self._numbers += 1
        number = self._numbers
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[number] = answered
        writer.write(encode({"kind": "request", "id": number, **request}))
        try:
            return await asyncio.wait_for(answered, _REPLY_TIMEOUT)
        finally:
            self._waiting.pop(number, None)

    def _request(self, **request: Any) -> concurrent.futures.Future[Any]:
        return self._thread.call(self._ask(request))

    # ----- what the console reads ---------------------------------------------------------
    def next_fire_times(
        self, tasks: Collection[UUID] | None = None
    ) -> Mapping[UUID, datetime | None]:
        with self._plan_lock:
            if tasks is None:
                return dict(self._plan)
            return {task: self._plan[task] for task in tasks if task in self._plan}

    def load_history(self, task_ids: list[UUID], limit: int) -> None:
        inbox = self._inbox
        assert inbox is not None, "start() first"
        asked = self._request(verb="history", tasks=[str(t) for t in task_ids], limit=limit)

        def done(future: concurrent.futures.Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                return
            result = future.result()
            runs = {
                UUID(task): [run_from_json(run) for run in runs]
                for task, runs in result["runs"].items()
            }
            inbox.post(HistoryLoaded(runs, {UUID(task) for task in result["paused"]}))

        asked.add_done_callback(done)

    def upcoming(self, task_id: UUID, count: int) -> concurrent.futures.Future[list[datetime]]:
        answer: concurrent.futures.Future[list[datetime]] = concurrent.futures.Future()
        asked = self._request(verb="upcoming", task=str(task_id), count=count)

        def done(future: concurrent.futures.Future[Any]) -> None:
            error = future.exception()
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result([i for i in map(parse_when, future.result()) if i is not None])

        asked.add_done_callback(done)
        return answer

    def send(self, verb: Verb, task_id: UUID | None = None) -> concurrent.futures.Future[Any]:
        if task_id is None:
            return self._request(verb=verb.value)
        return self._request(verb=verb.value, task=str(task_id))
