"""aioclock 0.3.0 worker: one AioClock app, tasks registered with Every(...), run by app.serve()."""

from __future__ import annotations

from aioclock import AioClock, Every
from harness import TaskSpec, first_run_strategy, main


class AioClockAdapter:
    """aioclock sleeps a full period after each run ends (fixed delay) and has no start time."""

    phase_free = False

    def __init__(self) -> None:
        self.app = AioClock()

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        strategy = first_run_strategy(spec, t0)
        trigger = Every(seconds=spec.period, first_run_strategy=strategy)
        self.app.task(trigger=trigger)(spec.bound())

    async def serve(self) -> None:
        await self.app.serve()


if __name__ == "__main__":
    main(AioClockAdapter())
