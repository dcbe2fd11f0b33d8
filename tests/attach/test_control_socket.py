"""The control socket itself: where it is made and with which modes, who may use it, the
errors a user can act on, read-only clients, slow clients, and the protocol's records."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

import pytest

from aioclock_core import AioClock, Every
from aioclock_core.events import (
    LoopBlocked,
    RunSkipped,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    SkipReason,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.testing import serving
from clocktui.cli import main
from clocktui.control_server import ControlServer
from clocktui.protocol import event_from_json, event_to_json
from clocktui.socket_access import (
    ControlSocketError,
    default_socket_path,
    refusal,
    user_name,
)
from clocktui.sources.socket_client import probe
from tests.attach.conftest import HeadlessApp, ask, task_state, time_limit

OTHER_USER = "clocktui-attach-test"
AT = datetime(2026, 12, 2, 6, 21, 33, tzinfo=timezone.utc)


def small_app(name: str = "sockets") -> AioClock:
    app = AioClock(name=name, loop_block_threshold=None)

    @app.task(trigger=Every(hours=1), name="idle")
    async def idle() -> None:
        return None

    return app


@asynccontextmanager
async def served(app: AioClock, server: ControlServer) -> AsyncIterator[ControlServer]:
    """`app` serving on this loop with `server` listening beside it."""
    server.bind()
    async with serving(app):
        await server.start(app)
        try:
            yield server
        finally:
            await server.close()


# ----- where, and with which modes --------------------------------------------------------
def test_the_default_socket_is_0600_in_a_0700_folder_of_the_runtime_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = default_socket_path("my app/1")
    assert path == tmp_path / "clocktui" / "my_app_1.sock"
    server = ControlServer(path)
    server.bind()
    try:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.is_socket()
    finally:
        asyncio.run(server.close())
    assert not path.exists()


def test_without_a_runtime_dir_the_socket_goes_to_a_folder_of_the_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert default_socket_path("app").parent.name == f"clocktui-{os.getuid()}"


def test_a_default_folder_open_to_others_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "clocktui").mkdir(mode=0o755)
    os.chmod(tmp_path / "clocktui", 0o755)
    with pytest.raises(ControlSocketError, match="chmod 700"):
        ControlServer(default_socket_path("app")).bind()


def test_a_socket_a_live_app_listens_on_is_refused_and_a_stale_one_replaced(
    headless: HeadlessApp,
) -> None:
    with pytest.raises(ControlSocketError, match="Another app already listens"):
        ControlServer(headless.socket).bind()
    headless.process.kill()  # type: ignore[union-attr]  # dies without removing its socket
    headless.process.wait()  # type: ignore[union-attr]
    assert headless.socket.is_socket()
    server = ControlServer(headless.socket)
    server.bind()  # nobody listens: the stale file is replaced
    asyncio.run(server.close())


def test_headless_with_a_taken_socket_exits_2_and_says_what_to_do(headless: HeadlessApp) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "clocktui", "run", "tests.apps.attach_app:app"),
            *("--headless", "--no-history"),
            *("--socket", str(headless.socket)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 2
    assert f"Another app already listens on {headless.socket}" in done.stderr
    assert "--no-socket" in done.stderr


# ----- who may use it ---------------------------------------------------------------------
def test_only_the_owning_user_may_use_a_socket_and_a_refusal_names_both() -> None:
    assert refusal(1000, 1000) is None
    text = refusal(0, 1000)
    assert text is not None
    assert user_name(1000) in text and user_name(0) in text  # root is refused too


@time_limit(20)
async def test_a_peer_of_another_uid_is_refused_by_its_credentials(short_tmp: Path) -> None:
    """The server is told it serves another user; this process (root in CI) connects, and
    SO_PEERCRED tells the server who it is."""
    other = os.getuid() + 4242
    server = ControlServer(short_tmp / "theirs.sock", owner_uid=other)
    async with served(small_app(), server):
        with pytest.raises(ControlSocketError, match="refused") as refused:
            await asyncio.to_thread(probe, server.path)
    assert user_name(other) in str(refused.value) and user_name(os.getuid()) in str(refused.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a second user needs root")
def test_a_second_user_cannot_connect_to_the_socket(short_tmp: Path) -> None:
    """A real second user, in a folder anyone may enter: the socket's 0600 keeps it out."""
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.skip("useradd or runuser is missing (Debian: passwd, util-linux)")
    if subprocess.run(["id", "-u", OTHER_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", OTHER_USER], check=True)
    folder = Path("/tmp") / f"clocktui-attach-{uuid4().hex[:8]}"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    app = HeadlessApp(short_tmp, folder / "app.sock")
    app.start()
    try:
        client = (
            "import socket; s = socket.socket(socket.AF_UNIX); "
            f"s.connect({str(app.socket)!r}); print(s.recv(100))"
        )
        done = subprocess.run(
            ["runuser", "-u", OTHER_USER, "--", "/usr/bin/python3", "-c", client],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode != 0
        assert "PermissionError" in done.stderr
        assert task_state(app.socket, "ticker")["paused"] is False  # the owner still can
    finally:
        app.stop()
        shutil.rmtree(folder, ignore_errors=True)


# ----- errors a user can act on ---------------------------------------------------------
def test_a_missing_socket_says_which_path_was_tried_and_how_to_start_the_app(
    short_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = short_tmp / "nothing.sock"
    assert main(["attach", str(missing)]) == 2
    error = capsys.readouterr().err
    assert f"No control socket at {missing}" in error
    assert "clocktui run TARGET --headless" in error


def test_an_app_name_is_looked_up_in_the_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert main(["attach", "billing"]) == 2
    assert str(tmp_path / "clocktui" / "billing.sock") in capsys.readouterr().err


def test_a_socket_nobody_listens_on_says_the_app_stopped(
    headless: HeadlessApp, capsys: pytest.CaptureFixture[str]
) -> None:
    headless.process.kill()  # type: ignore[union-attr]
    headless.process.wait()  # type: ignore[union-attr]
    assert main(["attach", str(headless.socket)]) == 2
    assert "the app that made it has stopped" in capsys.readouterr().err


# ----- clients ----------------------------------------------------------------------------
@time_limit(20)
async def test_a_read_only_client_is_refused_commands_by_the_app(short_tmp: Path) -> None:
    app = small_app()
    async with served(app, ControlServer(short_tmp / "ro.sock")) as server:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        hello = {"kind": "hello", "protocol": 1, "client": "test", "read_only": True}
        writer.write(json.dumps(hello).encode() + b"\n")
        request = {"kind": "request", "id": 7, "verb": "pause_all"}
        writer.write(json.dumps(request).encode() + b"\n")
        assert json.loads(await reader.readline())["kind"] == "welcome"
        reply = json.loads(await reader.readline())
        assert reply["id"] == 7 and "read-only" in reply["error"]
        assert not any(snapshot.paused for snapshot in app.snapshots())
        writer.close()


@time_limit(20)
async def test_a_client_of_another_protocol_is_told_to_use_the_same_clocktui(
    short_tmp: Path,
) -> None:
    async with served(small_app(), ControlServer(short_tmp / "v.sock")) as server:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        writer.write(b'{"kind": "hello", "protocol": 99}\n')
        answer = json.loads(await reader.readline())
        assert answer["kind"] == "refused" and "protocol 1" in answer["message"]
        assert await reader.readline() == b""
        writer.close()


@time_limit(30)
async def test_a_client_that_does_not_read_is_dropped_and_the_scheduler_goes_on(
    short_tmp: Path,
) -> None:
    app = AioClock(name="chatty", loop_block_threshold=None)
    fired = []

    @app.task(trigger=Every(seconds=0.01), name="chatty")
    async def chatty() -> None:
        fired.append(1)
        import logging

        logging.getLogger("chatty").warning("x" * 20_000)

    server = ControlServer(short_tmp / "slow.sock", max_buffer=64 * 1024)
    async with served(app, server):
        _, writer = await asyncio.open_unix_connection(str(server.path))
        writer.write(b'{"kind": "hello", "protocol": 1}\n')
        writer.write(b'{"kind": "request", "id": 1, "verb": "subscribe"}\n')
        await writer.drain()
        while not server.clients:
            await asyncio.sleep(0.01)
        while server.clients:  # it never reads: its bytes pile up until it is dropped
            await asyncio.sleep(0.05)
        before = len(fired)
        await asyncio.sleep(0.3)
        assert len(fired) > before  # firings went on
        writer.close()


@pytest.mark.parametrize(
    "event",
    [
        SchedulerStarted(AT, task_count=3),
        SchedulerStopping(AT, grace=2.5),
        SchedulerStopped(AT),
        TaskPaused(AT, uuid4(), "sync", session_only=True),
        TaskResumed(AT, uuid4(), "sync"),
        RunSkipped(AT, uuid4(), "sync", AT, SkipReason.OVERLAP, count=2, detail="busy"),
        LoopBlocked(AT, 0.4, None, None, None),
    ],
    ids=lambda event: type(event).__name__,
)
def test_events_cross_the_socket_unchanged(event: object) -> None:
    encoded = json.loads(json.dumps(event_to_json(event)))  # type: ignore[arg-type]
    assert event_from_json(encoded) == event


def test_a_snapshot_request_describes_every_task(headless: HeadlessApp) -> None:
    snapshot = ask(headless.socket, "snapshot")
    assert snapshot["app"] == "attached" and snapshot["phase"] == "running"
    assert sorted(task["name"] for task in snapshot["tasks"]) == ["breaks", "by hand", "ticker"]
    by_hand = next(task for task in snapshot["tasks"] if task["name"] == "by hand")
    assert by_hand["trigger"] == "every 1 h" and by_hand["next"] is not None


def test_a_script_that_sends_its_requests_and_closes_gets_every_answer(
    headless: HeadlessApp,
) -> None:
    import socket

    by_hand = task_state(headless.socket, "by hand")["id"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(10)
        connection.connect(str(headless.socket))
        requests = [
            {"kind": "hello", "protocol": 1},
            {"kind": "request", "id": 1, "verb": "pause", "task": by_hand},
            {"kind": "request", "id": 2, "verb": "upcoming", "task": by_hand, "count": 2},
        ]
        connection.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        connection.shutdown(socket.SHUT_WR)  # what `printf ... | socat` does
        answers = [json.loads(line) for line in connection.makefile("rb")]
    assert [a["kind"] for a in answers] == ["welcome", "reply", "reply"]
    replies = {a["id"]: a["result"] for a in answers[1:]}
    assert replies[1] is True and len(replies[2]) == 2
    assert task_state(headless.socket, "by hand")["paused"] is True
