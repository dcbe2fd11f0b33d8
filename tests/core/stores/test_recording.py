"""An app recording into SQLite: the scheduler hands its runs to the store directly."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import RunKind, RunOutcome
from aioclock_core.stores import SQLiteReader, SQLiteStore
from aioclock_core.testing import FakeClock, serving
from tests.core.stores.conftest import T0, time_limit

POLL_LIMIT = 5.0


async def until_read(path: Path, condition: object) -> list[object]:
    """Poll the file from a reader (real time: the writer thread paces itself) until
    `condition(runs)` holds."""
    deadline = asyncio.get_running_loop().time() + POLL_LIMIT
    while True:
        with SQLiteReader(path) as reader:
            runs = reader.recent_runs(limit=100)
        if condition(runs):  # type: ignore[operator]
            return runs  # type: ignore[return-value]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the file never satisfied the condition; it holds {runs}")
        await asyncio.sleep(0.02)


@time_limit()
async def test_runs_reach_the_file_with_outcomes_errors_and_kinds(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    clock = FakeClock(start=T0)
    app = AioClock(
        name="recording",
        clock=clock,
        store=SQLiteStore(path, batch_interval=0.01),
        loop_block_threshold=None,
    )

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None:
        return None

    @app.task(trigger=Every(seconds=30), name="broken")
    async def broken() -> None:
        raise ValueError("bad row 7")

    async with serving(app):
        await clock.settle()
        await clock.advance(seconds=60)
        await app.run_now("tick")
        await clock.settle()
        # Recording into the store builds no run events: nobody else subscribed.
        assert not app._bus.wants_runs
        await app.store.flush()
        runs = await app.store.recent_runs(limit=100)
    ticks = [r for r in runs if r.task_name == "tick"]
    failures = [r for r in runs if r.task_name == "broken"]
    scheduled = [r.scheduled_for for r in ticks if r.kind is RunKind.SCHEDULE]
    assert scheduled == [T0 + timedelta(seconds=s) for s in (60, 50, 40, 30, 20, 10)]
    assert [r.kind for r in ticks].count(RunKind.MANUAL) == 1
    assert [r.scheduled_for for r in failures] == [T0 + timedelta(seconds=s) for s in (60, 30)]
    assert {r.outcome for r in ticks} == {RunOutcome.SUCCEEDED}
    failure = failures[0]
    assert (failure.outcome, failure.error_type, failure.error_message) == (
        RunOutcome.FAILED,
        "ValueError",
        "bad row 7",
    )
    assert failure.traceback is not None and "raise ValueError" in failure.traceback
    with SQLiteReader(path) as reader:  # the file says the same after close
        assert reader.recent_runs(limit=100) == runs


@time_limit()
async def test_a_run_in_progress_is_in_the_file_until_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    clock = FakeClock(start=T0)
    release = asyncio.Event()
    app = AioClock(
        name="recording",
        clock=clock,
        store=SQLiteStore(path, batch_interval=0.01),
        loop_block_threshold=None,
    )

    @app.task(trigger=Once(), name="slow")
    async def slow() -> None:
        await release.wait()

    async with serving(app):
        await clock.settle()
        (run,) = await until_read(path, lambda runs: len(runs) == 1)
        assert (run.task_name, run.outcome, run.started_at) == ("slow", None, T0)
        release.set()
        (run,) = await until_read(path, lambda runs: runs and runs[0].outcome is not None)
        assert run.outcome is RunOutcome.SUCCEEDED
