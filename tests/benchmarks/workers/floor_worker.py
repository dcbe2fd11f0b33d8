"""Floor reference worker: one plain asyncio coroutine per task, sleeping until start + k·period."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from harness import TaskSpec, main, now, record


def die_with_parent() -> None:
    """The harness leaves with os._exit, which stops no pool; the worker (it holds the
    worker's stdout, so the driver would wait for it) goes with it (Linux)."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class FixedRateLoops:
    """No scheduler at all: the cheapest fixed-rate loop asyncio allows (catch-up, no skip)."""

    phase_free = True

    def __init__(self) -> None:
        self.specs: list[TaskSpec] = []
        self.processes: ProcessPoolExecutor | None = None

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        self.specs.append(spec)
        if spec.executor == "process" and self.processes is None:
            spawn = multiprocessing.get_context("spawn")
            self.processes = ProcessPoolExecutor(
                max_workers=1, mp_context=spawn, initializer=die_with_parent
            )
            self.processes.submit(int).result()  # the worker is up before t0

    async def serve(self) -> None:
        await asyncio.gather(*(self.run_forever(spec) for spec in self.specs))

    async def run_forever(self, spec: TaskSpec) -> None:
        body = spec.bound()
        k = 0
        while True:
            delay = spec.first + k * spec.period - now()
            if delay > 0:
                await asyncio.sleep(delay)
            if spec.executor == "process":
                loop = asyncio.get_running_loop()
                record((await loop.run_in_executor(self.processes, spec.func), spec.index))
            elif spec.is_async:
                await body()
            else:
                await asyncio.to_thread(body)
            k += 1


if __name__ == "__main__":
    main(FixedRateLoops())
