"""Cost of coordination per firing: a claim's round trip on loopback, and CPU per firing with
and without a RedisCoordinator at 1,000 tasks. Run `python -m tests.benchmarks.coordination`
(needs `redis-server` on PATH); prints a Markdown table."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from aioclock_core import AioClock, Every
from aioclock_core.coordination import ControlCommand
from aioclock_core.events import RunFinished
from aioclock_core.ext.redis import RedisCoordinator
from tests.replicas.conftest import RedisServer


async def claim_round_trips(url: str, count: int) -> list[float]:
    coordinator = RedisCoordinator(url, replica="bench")

    async def ignore(_: ControlCommand) -> None:
        return None

    await coordinator.start("bench", ignore)
    task = uuid.uuid4()
    try:
        for warm in range(100):
            await coordinator.claim(task, f"warm-{warm}", 60)
        seconds = []
        for key in range(count):
            began = time.perf_counter()
            claim = await coordinator.claim(task, str(key), 60)
            seconds.append(time.perf_counter() - began)
            assert claim.won
        return seconds
    finally:
        await coordinator.stop()


async def cpu_per_firing(url: str | None, tasks: int, seconds: float) -> tuple[float, int]:
    """CPU seconds per firing over `seconds` of serving `tasks` no-op Every(1 s) tasks."""
    coordinator = None if url is None else RedisCoordinator(url, replica=f"cpu-{uuid.uuid4()}")
    app = AioClock(name=f"bench-{uuid.uuid4()}", coordinator=coordinator, loop_block_threshold=None)
    for number in range(tasks):

        async def noop() -> None:
            return None

        app.task(trigger=Every(seconds=1), name=f"noop-{number}")(noop)
    runs = 0

    def count(batch: object) -> None:
        nonlocal runs
        runs += sum(isinstance(event, RunFinished) for event in batch)  # type: ignore[attr-defined]

    app.subscribe(count, on_loop=True)
    serving = asyncio.create_task(app.serve())
    await app.wait_started()
    await asyncio.sleep(1.5)  # past start-up and the first firings
    runs_before, cpu_before = runs, time.process_time()
    await asyncio.sleep(seconds)
    cpu, fired = time.process_time() - cpu_before, runs - runs_before
    app.request_shutdown(0)
    await serving
    return cpu / max(fired, 1), fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            trips = asyncio.run(claim_round_trips(server.url, args.claims))
            plain, plain_runs = asyncio.run(cpu_per_firing(None, args.tasks, args.seconds))
            shared, shared_runs = asyncio.run(cpu_per_firing(server.url, args.tasks, args.seconds))
        finally:
            server.stop()
    trips_us = sorted(s * 1e6 for s in trips)
    p99 = trips_us[int(len(trips_us) * 0.99) - 1]
    print("| Measure | Value |")
    print("|---|---|")
    print(f"| Claim round trip, loopback (median of {len(trips)}) | "
          f"{statistics.median(trips_us):.0f} µs |")  # fmt: skip
    print(f"| Claim round trip, p99 | {p99:.0f} µs |")
    print(f"| CPU per firing, no coordinator ({args.tasks} tasks, {plain_runs} firings) | "
          f"{plain * 1e6:.0f} µs |")  # fmt: skip
    print(f"| CPU per firing, RedisCoordinator ({args.tasks} tasks, {shared_runs} firings) | "
          f"{shared * 1e6:.0f} µs |")  # fmt: skip
    print(f"| Coordination overhead per firing | {(shared - plain) * 1e6:.0f} µs CPU |")


if __name__ == "__main__":
    main()
