"""aioclock_core (ours) worker: one AioClock app, uniquely named tasks, run by app.serve()."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from harness import TaskSpec, main, record

from aioclock_core import AioClock, Every
from aioclock_core.runs import RunRecord, RunSink


class RecordStarts(RunSink):
    """Records the starts of a process task's runs (its body's own record is in another
    process): the parent's start of each successful run."""

    def __init__(self, name: str, index: int) -> None:
        self.name, self.index = name, index

    @property
    def wants_started(self) -> bool:
        return False

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        for run in runs:
            if run.task_name == self.name and run.outcome is not None and not run.failed:
                record((run.started_at.timestamp(), self.index))


class OursAdapter:
    """Every is fixed rate on its grid start_at + k·P: each task starts where the spec
    says (so the random-phase rows run too)."""

    phase_free = True

    def __init__(self) -> None:
        self.app = AioClock()

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        # The grid's origin is start_at; "immediate" puts its first firing there (the
        # default "wait" would put it one period later, at spec.first + period).
        trigger = Every(seconds=spec.period, first_run_strategy="immediate")
        start_at = datetime.fromtimestamp(spec.first, tz=timezone.utc)
        # Task ids derive from the function's qualified name, the same for every
        # closure the harness makes, so each task needs its own name.
        if spec.executor == "process":
            self.app.task(trigger=trigger, name=spec.name, executor="process", start_at=start_at)(
                spec.func
            )
            self.app.add_run_sink(RecordStarts(spec.name, spec.index))
            return
        self.app.task(trigger=trigger, name=spec.name, start_at=start_at)(spec.bound())

    async def serve(self) -> None:
        await self.app.serve()


def simulated_workload(name: str) -> Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]:
    """The workload `name` of ours_simulated, imported only when it runs: the other
    workloads (the startup rows above all) time our scheduler, not that module's imports
    (FakeClock, the simulation, croniter: 25 ms of its own under -X importtime)."""

    async def run(args: argparse.Namespace) -> dict[str, Any]:
        workload = getattr(importlib.import_module("ours_simulated"), name)
        result: dict[str, Any] = await workload(args)
        return result

    return run


if __name__ == "__main__":
    main(
        OursAdapter(),
        extra={
            "simulated": simulated_workload("run_simulated_week"),
            "simulate-ahead": simulated_workload("run_simulation_ahead"),
        },
    )
