"""aioclock_core (ours) worker: one AioClock app, uniquely named tasks, run by app.serve()."""

from __future__ import annotations

from datetime import datetime, timezone

from harness import TaskSpec, main
from ours_simulated import run_simulated_week, run_simulation_ahead

from aioclock_core import AioClock, Every


class OursAdapter:
    """Every is fixed rate on its grid start_at + k·P: each task starts where the spec
    says (so the random-phase rows run too)."""

    phase_free = True

    def __init__(self) -> None:
        self.app = AioClock()

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        start_at = datetime.fromtimestamp(spec.first, tz=timezone.utc)
        # Task ids derive from the function's qualified name, the same for every
        # closure the harness makes, so each task needs its own name.
        self.app.task(trigger=Every(seconds=spec.period), name=spec.name, start_at=start_at)(
            spec.bound()
        )

    async def serve(self) -> None:
        await self.app.serve()


if __name__ == "__main__":
    main(
        OursAdapter(),
        extra={"simulated": run_simulated_week, "simulate-ahead": run_simulation_ahead},
    )
