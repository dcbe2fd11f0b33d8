"""Fixtures for attach tests: a headless app in a subprocess with its control socket, and a
plain protocol client to check what the app itself says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bounds import time_limit  # noqa: F401 - re-exported to the tests here

ROOT = Path(__file__).parents[2]
START_LIMIT = 30.0
"""Real seconds the headless app may take to start (interpreter and imports)."""


class HeadlessApp:
    """`clocktui run tests.apps.attach_app:app --headless --socket PATH` in a subprocess."""

    def __init__(self, folder: Path, socket_path: Path) -> None:
        self.folder = folder
        self.socket = socket_path
        self.log_path = folder / "headless.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clocktui",
                "run",
                "tests.apps.attach_app:app",
                "--headless",
                "--no-history",
                "--socket",
                str(self.socket),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + START_LIMIT
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"the headless app did not start:\n{self.logs()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            ask(self.socket, "snapshot")
        except OSError:
            return False
        return True

    def stop(self) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def ask(path: Path, verb: str, **arguments: Any) -> Any:
    """One request on a fresh connection, as any client of protocol 1 would send it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(10)
        connection.connect(str(path))
        lines = connection.makefile("rwb")
        lines.write(json.dumps({"kind": "hello", "protocol": 1, "client": "test"}).encode() + b"\n")
        lines.write(
            json.dumps({"kind": "request", "id": 1, "verb": verb, **arguments}).encode() + b"\n"
        )
        lines.flush()
        welcome = json.loads(lines.readline())
        assert welcome["kind"] == "welcome", welcome
        while True:
            message = json.loads(lines.readline())
            if message["kind"] == "reply" and message["id"] == 1:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]


def task_state(path: Path, name: str) -> dict[str, Any]:
    """The task's entry in the app's own snapshot."""
    snapshot = ask(path, "snapshot")
    return next(task for task in snapshot["tasks"] if task["name"] == name)


@pytest.fixture
def short_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a short path: a Unix socket's path is limited to about 100 bytes."""
    return tmp_path_factory.mktemp("attach")


@pytest.fixture
def headless(short_tmp: Path) -> Iterator[HeadlessApp]:
    app = HeadlessApp(short_tmp, short_tmp / "attached.sock")
    app.start()
    yield app
    app.stop()
