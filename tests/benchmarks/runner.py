"""Runs one measurement in a fresh subprocess of a peer's venv; turns its output into an Outcome."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metrics import Metrics, extract
from .peers import PROJECT_ROOT, Peer
from .plan import Case

REASON_LENGTH = 160


@dataclass(frozen=True)
class Outcome:
    """One repetition on one peer: ok with metrics, n/a (peer cannot express it) or failed."""

    status: str
    metrics: Metrics = field(default_factory=dict)
    reason: str = ""


def import_command(peer: Peer) -> str:
    return (
        "import json, time\n"
        "started = time.perf_counter()\n"
        f"{peer.import_statement}\n"
        "print(json.dumps({'status': 'ok', 'import_seconds': time.perf_counter() - started}))"
    )


def command_for(case: Case, peer: Peer, python: Path) -> list[str]:
    if case.workload == "import":
        return [str(python), "-c", import_command(peer)]
    worker = peer.worker.relative_to(PROJECT_ROOT)
    return [str(python), str(worker), f"--workload={case.workload}", *case.arguments]


def scrub(text: str) -> str:
    """Keep this machine's paths out of the report: the project root becomes a name."""
    return text.replace(str(PROJECT_ROOT), "<project root>")


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return scrub(lines[-1])[:REASON_LENGTH] if lines else "no output"


def parse_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    return None


def measure(case: Case, peer: Peer, python: Path) -> Outcome:
    """Run one repetition of `case` on `peer`; never raises for a failing worker."""
    spawned_at = time.time()
    try:
        done = subprocess.run(
            command_for(case, peer, python),
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=case.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome("failed", reason=f"timed out after {case.timeout:.0f} s")
    result = parse_result(done.stdout)
    if done.returncode != 0 or result is None:
        return Outcome("failed", reason=f"exit {done.returncode}: {last_line(done.stderr)}")
    if result.get("status") == "unsupported":
        return Outcome("n/a", reason=str(result.get("reason", "")))
    result["spawned_at"] = spawned_at
    try:
        return Outcome("ok", extract(case.workload, result))
    except (KeyError, ValueError, ZeroDivisionError) as error:
        return Outcome("failed", reason=f"bad result: {type(error).__name__}: {error}")
