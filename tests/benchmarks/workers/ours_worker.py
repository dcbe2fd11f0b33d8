"""aioclock_core (ours) worker: one AioClock app, uniquely named tasks, run by app.serve()."""

from __future__ import annotations

from harness import TaskSpec, first_run_strategy, main
from ours_simulated import run_simulated_week, run_simulation_ahead

from aioclock_core import AioClock, Every


class OursAdapter:
    """Every is fixed rate on serve start + k·P; there is no per-task start time."""

    phase_free = False

    def __init__(self) -> None:
        self.app = AioClock()

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        trigger = Every(seconds=spec.period, first_run_strategy=first_run_strategy(spec, t0))
        # Task ids derive from the function's qualified name, the same for every
        # closure the harness makes, so each task needs its own name.
        self.app.task(trigger=trigger, name=spec.name)(spec.bound())

    async def serve(self) -> None:
        await self.app.serve()


if __name__ == "__main__":
    main(
        OursAdapter(),
        extra={"simulated": run_simulated_week, "simulate-ahead": run_simulation_ahead},
    )
