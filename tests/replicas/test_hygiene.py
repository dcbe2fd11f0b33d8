"""Replica tests leave no process behind, even when they fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

ROOT = Path(__file__).parents[2]


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_failing_replica_test_leaves_no_replica_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "replica.pid"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(Path(__file__).with_name("failing_case.py"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        # The case needs no plugin: skipping their loading saves seconds of start-up.
        env={
            **os.environ,
            "REPLICA_PID_FILE": str(pid_file),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        },
    )
    assert "this test fails on purpose" in result.stdout, result.stdout + result.stderr
    pid = int(pid_file.read_text())
    try:
        assert not is_running(pid), "the failing test's replica outlived it"
    finally:
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)
