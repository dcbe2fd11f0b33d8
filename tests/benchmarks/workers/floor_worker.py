"""Floor reference worker: one plain asyncio coroutine per task, sleeping until start + k·period."""

from __future__ import annotations

import asyncio

from harness import TaskSpec, main, now


class FixedRateLoops:
    """No scheduler at all: the cheapest fixed-rate loop asyncio allows (catch-up, no skip)."""

    phase_free = True

    def __init__(self) -> None:
        self.specs: list[TaskSpec] = []

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        self.specs.append(spec)

    async def serve(self) -> None:
        await asyncio.gather(*(self.run_forever(spec) for spec in self.specs))

    async def run_forever(self, spec: TaskSpec) -> None:
        body = spec.bound()
        k = 0
        while True:
            delay = spec.first + k * spec.period - now()
            if delay > 0:
                await asyncio.sleep(delay)
            if spec.is_async:
                await body()
            else:
                await asyncio.to_thread(body)
            k += 1


if __name__ == "__main__":
    main(FixedRateLoops())
