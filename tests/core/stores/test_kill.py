"""A real process killed with SIGKILL mid-run: the file stays sound, the run is interrupted."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aioclock_core import AioClock, Once
from aioclock_core.events import RunOutcome
from aioclock_core.stores import SQLiteReader, SQLiteStore, StoreError
from aioclock_core.testing import FakeClock, serving
from tests.core.stores.conftest import time_limit

ROOT = Path(__file__).parents[3]
START_LIMIT = 20.0
"""Real seconds the child may take to start its run (interpreter start-up included)."""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def run_in_progress(path: Path) -> bool:
    try:
        with SQLiteReader(path) as reader:
            return any(run.outcome is None for run in reader.recent_runs())
    except StoreError:  # not created yet
        return False


def start_and_kill_mid_run(path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.apps.history_sleeper"],
        cwd=ROOT,
        env={**os.environ, "HISTORY_DB": str(path), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_LIMIT
        while not run_in_progress(path):
            if child.poll() is not None or time.monotonic() > deadline:
                error = child.stderr.read().decode() if child.stderr else ""
                raise AssertionError(f"the child never recorded its run start:\n{error}")
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child.stderr:
            child.stderr.close()


@time_limit(60)
async def test_a_run_killed_mid_way_is_marked_interrupted_on_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sleeper.sqlite3"
    start_and_kill_mid_run(path)

    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()

    clock = FakeClock()
    app = AioClock(name="sleeper", clock=clock, store=SQLiteStore(path), loop_block_threshold=None)

    @app.task(trigger=Once(), name="long nap")
    async def long_nap() -> None:
        return None

    with caplog.at_level(logging.WARNING, "aioclock"):
        async with serving(app):
            interrupted = [
                run
                for run in await app.store.recent_runs(limit=10)
                if run.outcome is RunOutcome.INTERRUPTED
            ]
    assert [(run.task_name, run.ended_at) for run in interrupted] == [("long nap", clock.now())]
    assert "was interrupted (the process stopped during it)" in caplog.text
