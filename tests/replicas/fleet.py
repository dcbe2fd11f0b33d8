"""Replica processes of tests/apps/replica_app.py, started, stopped and killed by tests; the
`fleet` fixture (conftest.py) kills whatever a test left running, pass or fail."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from uuid import UUID

from aioclock_core.stores import RunRecord
from aioclock_core.stores.redis import RedisStore
from tests.apps.replica_app import APP_NAME

ROOT = Path(__file__).parents[2]
START_LIMIT = 30.0
"""Real seconds a replica may take to start (interpreter and imports on a loaded machine)."""


class Replica:
    def __init__(self, name: str, url: str, log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.apps.replica_app"],
            cwd=ROOT,
            env={**os.environ, "REDIS_URL": url, "REPLICA": name, **env},
            stdout=subprocess.PIPE,
            stderr=self.log,
        )

    def wait_started(self) -> None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_LIMIT)
        line = self.process.stdout.readline() if ready else b""
        if line.strip() != b"started":
            self.process.kill()
            raise AssertionError(f"replica {self.name} did not start:\n{self.logs()}")

    def logs(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait; returns the exit code (kills it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            # Its asyncio tasks' stacks (SIGUSR2, answered by its loop) and its threads'
            # (SIGUSR1, even with the loop blocked) into the log, then kill.
            self.process.send_signal(signal.SIGUSR2)
            time.sleep(1.0)
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            self.process.kill()
            self.process.wait()
            print(f"----- replica {self.name} did not stop; its log and stacks:\n{self.logs()}")
            raise AssertionError(f"replica {self.name} did not stop:\n{self.logs()}") from None
        finally:
            self.log.close()

    def kill(self) -> None:
        """Kill it if it still runs (at once: no shutdown), and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self.log.close()
        if self.process.stdout is not None:
            self.process.stdout.close()


class ReplicaFleet:
    """Starts replicas of the test's Redis; `kill_all` ends every one it started."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.started: list[Replica] = []

    def start(self, names: list[str], **env: str) -> list[Replica]:
        """Start one replica per name with `env` and wait until each serves."""
        replicas = [Replica(name, self.url, self.folder / f"{name}.log", env) for name in names]
        self.started.extend(replicas)  # before waiting: one that fails to start is killed too
        for replica in replicas:
            replica.wait_started()
        return replicas

    def kill_all(self) -> None:
        for replica in self.started:
            replica.kill()


async def all_runs(url: str, limit: int = 100_000) -> list[RunRecord]:
    store = RedisStore(url, replica="test-reader", sweep_interval=3600)
    await store.open(APP_NAME)
    try:
        return await store.recent_runs(limit=limit)
    finally:
        await store.close()


def runs_per_firing(runs: list[RunRecord]) -> Counter[tuple[UUID, datetime]]:
    return Counter((run.task_id, run.scheduled_for) for run in runs)


def wait_until(condition: object, limit: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(step)
    return False
