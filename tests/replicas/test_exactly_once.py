"""Three replica processes, fifty tasks every second: each firing runs exactly once."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from aioclock_core.events import RunOutcome
from tests.replicas.fleet import ReplicaFleet, all_runs, runs_per_firing

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

TASKS = 50
WINDOW = 25.0
"""Seconds every replica serves together."""
EDGE = 2
"""Instants at each end of the window left out of the completeness check (start-up and
shutdown of individual replicas happen there)."""


def test_three_replicas_run_every_firing_exactly_once(fleet: ReplicaFleet, redis_url: str) -> None:
    replicas = fleet.start(["r1", "r2", "r3"], TASKS=str(TASKS), RUN_SECONDS="0.05")
    together_from = time.time()
    time.sleep(WINDOW)
    together_until = time.time()
    codes: dict[str, int | str] = {}
    for replica in replicas:  # every one is stopped, even after one that hung
        try:
            codes[replica.name] = replica.stop()
        except AssertionError as hung:
            codes[replica.name] = str(hung)
    assert codes == {"r1": 0, "r2": 0, "r3": 0}, [r.logs() for r in replicas]

    runs = asyncio.run(asyncio.wait_for(all_runs(redis_url), 30))
    per_firing = runs_per_firing(runs)
    twice = {firing: n for firing, n in per_firing.items() if n > 1}
    assert twice == {}

    first = math.ceil(together_from) + EDGE
    last = math.floor(together_until) - EDGE
    expected = {datetime.fromtimestamp(second, timezone.utc) for second in range(first, last + 1)}
    for task_id in {run.task_id for run in runs}:
        instants = {when for (task, when) in per_firing if task == task_id}
        assert expected - instants == set(), f"firings of {task_id} never ran"
    assert len({run.task_id for run in runs}) == TASKS
    assert {run.replica for run in runs} == {"r1", "r2", "r3"}
    assert all(run.outcome is RunOutcome.SUCCEEDED for run in runs if run.outcome)
    assert all(run.scheduled_for.microsecond == 0 for run in runs)
    assert max(r.started_at - r.scheduled_for for r in runs) < timedelta(seconds=5)
