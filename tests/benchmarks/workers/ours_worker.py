"""aioclock_core (ours) worker: one AioClock app, uniquely named tasks, run by app.serve()."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from harness import TaskSpec, first_run_strategy, main, record
from ours_simulated import run_simulated_week

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
    """Every is fixed rate on interval_origin + k·P, the origin being t0; there is no
    per-task start time."""

    phase_free = False

    def __init__(self) -> None:
        self.app = AioClock()

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        trigger = Every(seconds=spec.period, first_run_strategy=first_run_strategy(spec, t0))
        # Its start-time option: every grid is t0 + k·P, not serve start + k·P (serve()
        # starts a millisecond or more after t0, a constant that would count as lateness).
        self.app.interval_origin = datetime.fromtimestamp(t0, timezone.utc)
        if spec.executor == "process":
            self.app.task(trigger=trigger, name=spec.name, executor="process")(spec.func)
            self.app.add_run_sink(RecordStarts(spec.name, spec.index))
            return
        # Task ids derive from the function's qualified name, the same for every
        # closure the harness makes, so each task needs its own name.
        self.app.task(trigger=trigger, name=spec.name)(spec.bound())

    async def serve(self) -> None:
        await self.app.serve()


if __name__ == "__main__":
    main(OursAdapter(), extra={"simulated": run_simulated_week})
