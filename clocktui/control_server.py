"""ControlServer: a serving app's Unix control socket, for `clocktui attach` (protocol.py).

It runs on the scheduler's loop and never blocks it: each subscribed client gets its own
run sink, whose records are sent in one `runs` message per burst; events and log records
are encoded once for every client; a client whose unsent bytes pass a bound is dropped
rather than slowing the scheduler. Only the socket's owning user may connect (the
folder is 0700, the socket 0600, and each peer's uid is checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.events import Event, SchedulerStopped, SchedulerStopping, Subscription
from aioclock_core.runs import RunRecord, RunSink, run_to_json
from clocktui import __version__
from clocktui.bridge import EVENT_KINDS, LogForwarder
from clocktui.logbook import LogEntry
from clocktui.model import SchedulerPhase
from clocktui.protocol import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    ProtocolError,
    decode,
    encode,
    event_to_json,
    logs_to_json,
    plan_to_json,
    snapshot_to_json,
    when,
)
from clocktui.seeding import load_history
from clocktui.socket_access import (
    MAX_PATH_BYTES,
    ControlSocketError,
    default_socket_dir,
    peer_uid,
    prepare_socket_dir,
    refusal,
)
from clocktui.sources.base import TASK_VERBS, Verb

__all__ = ["ControlServer", "MAX_CLIENT_BUFFER"]

logger = logging.getLogger("clocktui.control")

MAX_CLIENT_BUFFER = 8 * 1024 * 1024
"""Bytes that may wait to be sent to one client; a client further behind is dropped."""
MAX_HELD_RUNS = 200_000
"""Runs kept for one client between two sends; a client further behind is dropped."""
_SEND_EVERY = 1.0
"""Seconds between sends of runs that a long busy spell keeps back, and of next firings."""
_HELLO_TIMEOUT = 10.0


class ControlServer:
    """Listens on `path` while the app serves (the `Host` starts and closes it).

    Args:
        path: The socket's path; its folder is made private (0700) if missing.
        owner_uid: The only user allowed in (default: this process's user).
        max_buffer: Bytes a client may have waiting before it is dropped.
    """

    def __init__(
        self, path: Path, *, owner_uid: int | None = None, max_buffer: int = MAX_CLIENT_BUFFER
    ) -> None:
        self.path = Path(path)
        self.owner_uid = os.getuid() if owner_uid is None else owner_uid
        self.max_buffer = max_buffer
        self.app: AioClock | None = None
        self.phase = SchedulerPhase.RUNNING
        self.clients: set[_Client] = set()
        self._sock: socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self._events: Subscription | None = None
        self._log_handler: LogForwarder | None = None
        self._logs: list[LogEntry] = []
        self._logs_lock = threading.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self._sent_plan: dict[UUID, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inode: int | None = None

    # ----- life -------------------------------------------------------------------------
    def bind(self) -> None:
        """Create the socket now (before serving), so a bad path fails at start.

        Raises:
            ControlSocketError: The path is too long, taken by a live app, or its folder
                cannot be made private.
        """
        if self._sock is not None:
            return
        path = self.path
        if len(os.fsencode(path)) > MAX_PATH_BYTES:
            raise ControlSocketError(
                f"The control socket's path {path} is longer than a Unix socket allows "
                f"({MAX_PATH_BYTES} bytes): pass a shorter --socket PATH."
            )
        if path.parent == default_socket_dir():
            prepare_socket_dir(path.parent)  # ours to make, and to keep private
        elif not path.parent.is_dir():
            raise ControlSocketError(
                f"Cannot create the control socket {path}: the folder {path.parent} does not exist."
            )
        _remove_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)  # the socket is created 0600, not chmod-ed after a race
        try:
            sock.bind(str(path))
        except OSError as error:
            sock.close()
            raise ControlSocketError(
                f"Cannot create the control socket {path} ({error.strerror}): pass "
                "--socket PATH, or --no-socket."
            ) from None
        finally:
            os.umask(old_mask)
        sock.listen(16)
        sock.setblocking(False)
        self._sock = sock
        self._inode = path.stat().st_ino

    async def start(self, app: AioClock) -> None:
        """Serve clients on the running loop until `close`; logs (never raises) trouble."""
        self.app = app
        self._loop = asyncio.get_running_loop()
        try:
            self.bind()
            self._server = await asyncio.start_unix_server(
                self._serve_client, sock=self._sock, limit=MAX_LINE_BYTES
            )
        except (ControlSocketError, OSError) as error:
            logger.warning("No control socket: %s", error)
            return
        logger.info("Control socket: %s (clocktui attach %s)", self.path, self.path)

    async def close(self) -> None:
        """Stop listening, hang up on every client and remove the socket file."""
        for client in list(self.clients):
            client.drop(None)
        ticker = self._ticker
        self._stop_watching()
        if ticker is not None:
            await asyncio.gather(ticker, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        elif self._sock is not None:
            self._sock.close()
        self._sock = None
        self._unlink()

    def _unlink(self) -> None:
        """Remove the socket file if it is still ours (not a later app's)."""
        with contextlib.suppress(OSError):
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()

    # ----- one client -------------------------------------------------------------------
    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        client = _Client(self, writer)
        try:
            refused = refusal(peer_uid(writer.get_extra_info("socket")), self.owner_uid)
            if refused is not None:
                logger.warning("Control socket: %s", refused)
                await client.refuse(refused)
                return
            hello = decode(await asyncio.wait_for(reader.readline(), _HELLO_TIMEOUT))
            if hello.get("kind") != "hello" or hello.get("protocol") != PROTOCOL_VERSION:
                await client.refuse(
                    f"refused: this app speaks protocol {PROTOCOL_VERSION} (clocktui "
                    f"{__version__}); the client sent {_brief(hello)}: use the same clocktui"
                )
                return
            client.read_only = bool(hello.get("read_only"))
            self.admit(client)
            client.write(
                {
                    "kind": "welcome",
                    "protocol": PROTOCOL_VERSION,
                    "app": self.app.name if self.app else "",
                    "pid": os.getpid(),
                    "server": f"clocktui {__version__}",
                }
            )
            while not client.dropped:
                line = await reader.readline()
                if not line:  # the client is done sending: answer what it asked, then close
                    await client.finish_answering()
                    return
                client.start_answering(decode(line))
        except (ProtocolError, asyncio.TimeoutError, ValueError) as error:
            await client.refuse(f"refused: {error}")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            client.drop(None)

    # ----- clients come and go ---------------------------------------------------------------
    # With no client the app does no work for the socket: the events, the log records and
    # the once-a-second sends are watched from the first client on, until the last leaves.
    def admit(self, client: _Client) -> None:
        """Count `client` in (its hello was accepted)."""
        self.clients.add(client)
        if len(self.clients) == 1 and self.app is not None:
            self.phase = SchedulerPhase.RUNNING if self.app.is_running else SchedulerPhase.STOPPED
            self._events = self.app.subscribe(self._send_events, on_loop=True, kinds=EVENT_KINDS)
            self._log_handler = LogForwarder(self._add_log, self.app.clock)
            logging.getLogger().addHandler(self._log_handler)
            self._sent_plan = {}
            self._ticker = asyncio.create_task(self._tick_forever(), name="clocktui-control")

    def forget(self, client: _Client) -> None:
        """Count `client` out (it hung up, or was dropped)."""
        self.clients.discard(client)
        if not self.clients:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    # ----- what every client gets ---------------------------------------------------------
    @property
    def live_clients(self) -> list[_Client]:
        """The subscribed clients (those still waiting for their snapshot hold lines)."""
        return [client for client in self.clients if client.feed is not None]

    def _send_events(self, batch: Sequence[Event]) -> None:
        for event in batch:
            if isinstance(event, SchedulerStopping):
                self.phase = SchedulerPhase.STOPPING
            elif isinstance(event, SchedulerStopped):
                self.phase = SchedulerPhase.STOPPED
        clients = self.live_clients
        if clients:
            line = encode({"kind": "events", "events": [event_to_json(e) for e in batch]})
            for client in clients:
                client.push(line)

    def _add_log(self, entry: LogEntry) -> None:
        """Any thread: keep the record for the subscribed clients (none: drop it)."""
        if not self.clients or self._loop is None:
            return
        with self._logs_lock:
            first = not self._logs
            self._logs.append(entry)
        if first:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._send_logs)

    def _send_logs(self) -> None:
        with self._logs_lock:
            entries, self._logs = self._logs, []
        clients = self.live_clients
        if entries and clients:
            line = encode({"kind": "logs", "logs": logs_to_json(entries)})
            for client in clients:
                client.push(line)

    async def _tick_forever(self) -> None:
        """Once a second: runs a busy spell held back, and the next firings that moved."""
        while True:
            await asyncio.sleep(_SEND_EVERY)
            clients = self.live_clients
            for client in clients:
                assert client.feed is not None
                client.feed.send_held()
            if clients and self.app is not None and self.app.is_running:
                plan = self.app.next_fire_times()
                sent = self._sent_plan
                moved = {task: at for task, at in plan.items() if sent.get(task, 0) != at}
                self._sent_plan = plan
                if moved:
                    line = encode({"kind": "next", "next": plan_to_json(moved)})
                    for client in clients:
                        client.push(line)


class _Feed(RunSink):
    """One subscribed client's run sink: holds records until the burst is over (or a
    second passed), then sends them with the next firings of the tasks they touched."""

    def __init__(self, client: _Client, app: AioClock) -> None:
        self.client = client
        self.app = app
        self.held: list[RunRecord] = []
        self.live = False
        """False until the client has its snapshot: records wait behind it."""

    @property
    def wants_every_start(self) -> bool:
        return False  # see send_held: a client tracks runs going, and their ends

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self.held.extend(runs)
        if len(self.held) > MAX_HELD_RUNS:
            self.client.drop(f"{len(self.held)} runs waiting")

    def idle(self) -> None:
        self.send_held()

    def send_held(self) -> None:
        if not self.live or not self.held:
            return
        runs, self.held = self.held, []
        # A run that started and ended while its records were held goes once, as ended
        # (the scheduler already leaves out the starts of runs that ended within one of
        # its batches): the console's counts come out the same, and a herd of short runs
        # costs half.
        ended = {run.run_id for run in runs if run.outcome is not None}
        if ended:
            runs = [run for run in runs if run.outcome is not None or run.run_id not in ended]
        touched = {run.task_id for run in runs}
        plan = self.app.next_fire_times(touched) if self.app.is_running else {}
        self.client.send(
            encode(
                {
                    "kind": "runs",
                    "runs": [run_to_json(run) for run in runs],
                    "next": plan_to_json(plan),
                }
            )
        )


class _Client:
    """One connection."""

    def __init__(self, server: ControlServer, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.read_only = False
        self.dropped = False
        self.feed: _Feed | None = None
        self._runs: Subscription | None = None
        self._held_lines: list[bytes] = []
        self._answering: set[asyncio.Task[None]] = set()

    def start_answering(self, request: dict[str, Any]) -> None:
        """Answer `request` in a task of its own (a history read must not hold up a pause)."""
        task = asyncio.create_task(self.answer(request))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def finish_answering(self, timeout: float = 30.0) -> None:
        """Wait for the answers under way, and for them to be sent."""
        if self._answering:
            await asyncio.wait(list(self._answering), timeout=timeout)
        with contextlib.suppress(ConnectionError, asyncio.TimeoutError):
            await asyncio.wait_for(self.writer.drain(), timeout)

    def write(self, message: dict[str, Any]) -> None:
        self.send(encode(message))

    def push(self, line: bytes) -> None:
        """Send an update; held while the client still waits for its snapshot."""
        if self.feed is not None and not self.feed.live:
            self._held_lines.append(line)
        else:
            self.send(line)

    def send(self, line: bytes) -> None:
        """Queue `line` without waiting; a client too far behind is dropped."""
        if self.dropped:
            return
        transport = self.writer.transport
        waiting = transport.get_write_buffer_size()
        if waiting + len(line) > self.server.max_buffer:
            self.drop(f"{waiting} bytes waiting")
            return
        transport.write(line)

    async def refuse(self, text: str) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            self.writer.write(encode({"kind": "refused", "message": text}))
            await asyncio.wait_for(self.writer.drain(), 2.0)
        self.drop(None)

    def drop(self, why: str | None) -> None:
        """Hang up (`why`: the client was too slow, and the log says so)."""
        if self.dropped:
            return
        self.dropped = True
        if why is not None:
            logger.warning("Control socket: dropped a client that fell behind (%s)", why)
        self._stop_feed()
        self.server.forget(self)
        if why is not None:
            self.writer.transport.abort()
        else:
            self.writer.close()

    def _stop_feed(self) -> None:
        if self._runs is not None:
            self._runs.close()
            self._runs = None
        self.feed = None
        self._held_lines = []

    async def answer(self, request: dict[str, Any]) -> None:
        """Do what `request` asks and reply (errors become replies, never crashes)."""
        number = request.get("id")
        subscribing = request.get("verb") == "subscribe" and self.feed is None
        try:
            result = await self._do(request)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if subscribing:
                self._stop_feed()
            reply = {"kind": "reply", "id": number, "error": str(error)}
            self.write({**reply, "error_type": type(error).__name__})
            return
        if isinstance(result, bytes):  # a large reply, encoded off the loop
            self.send(result)
        else:
            self.write({"kind": "reply", "id": number, "result": result})
        if subscribing and self.feed is not None:  # the snapshot is out: updates may follow
            self.feed.live = True
            held, self._held_lines = self._held_lines, []
            for line in held:
                self.send(line)
            self.feed.send_held()

    async def _do(self, request: dict[str, Any]) -> Any:
        app = self.server.app
        assert app is not None
        verb = request.get("verb")
        if request.get("kind") != "request" or not isinstance(verb, str):
            raise ProtocolError(f"expected a request with a verb, got {_brief(request)}")
        if verb in ("subscribe", "snapshot"):
            if verb == "subscribe" and self.feed is None:
                self.feed = _Feed(self, app)
                self._runs = app.add_run_sink(self.feed)  # then the snapshot: they add up
            snapshot = snapshot_to_json(app, self.server.phase)
            return await _encoded_reply(request.get("id"), snapshot)
        if verb == "history":
            ids = [UUID(task) for task in request.get("tasks", [])]
            found = await load_history(app, ids, int(request.get("limit", 50)))
            result = {
                "runs": {str(t): [run_to_json(r) for r in runs] for t, runs in found.runs.items()},
                "paused": [str(task) for task in found.paused],
            }
            return await _encoded_reply(request.get("id"), result)
        if verb == "upcoming":
            instants = app.upcoming(UUID(request["task"]), int(request.get("count", 5)))
            return [when(instant) for instant in instants]
        try:
            command = Verb(verb)
        except ValueError:
            raise ProtocolError(f"unknown verb {verb!r}") from None
        if self.read_only:
            raise PermissionError(f"{verb}: this client attached read-only")
        if command in TASK_VERBS:
            task = UUID(request["task"])
            if command is Verb.RUN_NOW:
                run_id = await app.run_now(task)
                return None if run_id is None else str(run_id)
            if command is Verb.PAUSE:
                return await app.pause(task)
            if command is Verb.RESUME:
                return await app.resume(task)
            return await app.cancel_run(task)
        return await (app.pause_all() if command is Verb.PAUSE_ALL else app.resume_all())


async def _encoded_reply(number: Any, result: Any) -> bytes:
    """A reply encoded in a worker thread: a snapshot of thousands of tasks takes a while."""
    return await asyncio.to_thread(encode, {"kind": "reply", "id": number, "result": result})


def _brief(message: object) -> str:
    text = json.dumps(message) if isinstance(message, dict) else repr(message)
    return text if len(text) <= 80 else text[:79] + "…"


def _remove_stale(path: Path) -> None:
    """Remove a socket file left by an app that died; refuse one a live app listens on."""
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_socket():
        raise ControlSocketError(
            f"{path} exists and is not a socket: remove it, or pass another --socket PATH."
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError as error:
        if error.errno in (errno.ECONNREFUSED, errno.ENOENT):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # nobody listens: a socket left by an app that died
            return
        raise ControlSocketError(f"Cannot use {path} ({error.strerror}).") from None
    finally:
        probe.close()
    raise ControlSocketError(
        f"Another app already listens on {path}: stop it, or pass --socket PATH (or "
        "--no-socket) to this one."
    )
