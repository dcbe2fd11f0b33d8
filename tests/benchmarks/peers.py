"""The schedulers under comparison: how to install each one and which worker drives it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = PROJECT_ROOT / ".bench"
MAIN_PYTHON = (3, 11)
"""The machines' Python: a run with it is docs/benchmarks.md."""
PYTHON_TAG = "" if sys.version_info[:2] == MAIN_PYTHON else "-py{}.{}".format(*sys.version_info[:2])
"""Suffix of the venvs, cached results and report of a run with another Python (the
suite's interpreter is every peer's): `-py3.12` for `python3.12 -m tests.benchmarks`."""
WORKERS_DIR = Path(__file__).resolve().parent / "workers"


@dataclass(frozen=True)
class Peer:
    """One scheduler: its venv requirements, reported distribution and import statement."""

    id: str
    title: str
    requirements: tuple[str, ...]
    distribution: str | None
    import_statement: str
    caveat: str

    @property
    def worker(self) -> Path:
        return WORKERS_DIR / f"{self.id}_worker.py"


PEERS: tuple[Peer, ...] = (
    Peer(
        id="ours",
        title="aioclock_core (ours)",
        requirements=("-e", str(PROJECT_ROOT)),
        distribution="clocktui",
        import_statement="import aioclock_core",
        caveat=(
            "Every(seconds=P, first_run_strategy='immediate') with start_at = the task's "
            "first instant: fixed rate on start_at + k·P, so random phasing runs too "
            "(sections measured before 2026-12-02 09:00: first_run_strategy on serve "
            "start + k·P, or interval_origin = t0; from then until the fix of 2026-12-02 "
            "14:00 the worker left the default 'wait', so each first firing came one "
            "period late). The process-executor row: executor='process'."
        ),
    ),
    Peer(
        id="aioclock",
        title="aioclock 0.3.0",
        requirements=("aioclock==0.3.0",),
        distribution="aioclock",
        import_statement="import aioclock",
        caveat=(
            "Every sleeps a full period after each run ends (fixed delay), so its drift "
            "is charged as lateness against the fixed-rate grid. No start time: random "
            "phasing is n/a."
        ),
    ),
    Peer(
        id="apscheduler3",
        title="APScheduler 3.11",
        requirements=("apscheduler==3.11.*",),
        distribution="apscheduler",
        import_statement="from apscheduler.schedulers.asyncio import AsyncIOScheduler",
        caveat=(
            "AsyncIOScheduler, IntervalTrigger(start_date=...), misfire_grace_time=None, "
            "coalesce=False, max_instances=1000 so no firing is dropped by policy."
        ),
    ),
    Peer(
        id="apscheduler4",
        title="APScheduler 4 (pre-release)",
        requirements=("--pre", "apscheduler>=4.0.0a1"),
        distribution="apscheduler",
        import_statement="from apscheduler import AsyncScheduler",
        caveat=(
            "AsyncScheduler with the default in-memory data store and event broker, "
            "IntervalTrigger(start_time=...), CoalescePolicy.all, misfire_grace_time=None, "
            "max_running_jobs=None; default max_concurrent_jobs=100."
        ),
    ),
    Peer(
        id="floor",
        title="floor: plain asyncio loop",
        requirements=(),
        distribution=None,
        import_statement="import asyncio",
        caveat=(
            "Not a scheduler: one coroutine per task sleeping until start + k·P "
            "(catch-up, no skip). The lower bound any asyncio scheduler can reach."
        ),
    ),
    Peer(
        id="pydantic_floor",
        title="floor + one pydantic model",
        requirements=("pydantic>=2.6,<3",),
        distribution="pydantic",
        import_statement="from pydantic import BaseModel",
        caveat=(
            "Startup rows only; not a scheduler: the plain asyncio floor after building and "
            "validating one pydantic model shaped like Every. The lower bound of a scheduler "
            "whose triggers are pydantic models validated at construction (aioclock's API)."
        ),
    ),
)

PEERS_BY_ID = {peer.id: peer for peer in PEERS}
