"""Shared worker harness: parses arguments, runs one workload on a peer adapter, prints raw JSON.

Every worker script (one per peer) defines an adapter and calls `main(adapter)`. The
harness owns the workloads, so every peer gets exactly the same tasks, timing and
recording; the adapter only translates "run this function every P seconds, first at
instant F" into its scheduler's API. Statistics are computed by the driver from the raw
output, never inside the measured window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

LATENESS_PERIOD = 1.0
DRIFT_PERIOD = 0.2
DRIFT_BODY_SECONDS = 0.05
DRIFT_RUNS = 50
BLOCKING_PERIOD = 0.1
BLOCKER_PERIOD = 2.0
BLOCKER_SECONDS = 0.5
CPU_WARMUP_SECONDS = 1.0
SERVE_LEAD = 0.2

# Every body start is appended here as (time.time(), task index); nothing else happens
# in a body, so the scheduler's own cost dominates.
starts: list[tuple[float, int]] = []
record = starts.append
now = time.time


class Unsupported(Exception):
    """The peer cannot express the requested schedule; reported as n/a, not as failure."""


@dataclass(frozen=True)
class TaskSpec:
    """One periodic task: `func(index)` every `period` seconds, first at epoch `first`."""

    name: str
    index: int
    period: float
    first: float
    func: Callable[[int], Any]
    is_async: bool
    executor: str | None = None
    """"process": run `func` (module-level, no argument) in a worker process."""

    def bound(self) -> Callable[[], Any]:
        """A zero-argument function (async if `func` is) that calls `func(index)`."""
        func, index = self.func, self.index
        if self.is_async:

            async def run_async() -> None:
                await func(index)

            return run_async

        def run_sync() -> None:
            func(index)

        return run_sync


class Adapter(Protocol):
    """What a peer worker implements."""

    phase_free: bool
    """True if a task's first firing may be any instant; otherwise it must be the
    serve start (t0) or t0 + period, and the harness starts serving exactly at t0."""

    async def open(self) -> None: ...

    async def add(self, spec: TaskSpec, t0: float) -> None: ...

    async def serve(self) -> None: ...


def first_run_strategy(spec: TaskSpec, t0: float) -> str:
    """For aioclock-style peers: 'immediate' if first == t0, 'wait' if first == t0 + period."""
    if math.isclose(spec.first, t0, abs_tol=1e-9):
        return "immediate"
    if math.isclose(spec.first, t0 + spec.period, abs_tol=1e-9):
        return "wait"
    raise Unsupported("first firing at an arbitrary instant (no start time or phase option)")


def resident_bytes() -> int:
    """Current resident set size, from /proc/self/statm."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def sleep_until(epoch: float) -> None:
    await asyncio.sleep(max(0.0, epoch - now()))


async def record_start(index: int) -> None:
    record((now(), index))


async def record_then_sleep(index: int) -> None:
    record((now(), index))
    await asyncio.sleep(DRIFT_BODY_SECONDS)


async def block_loop(index: int) -> None:
    record((now(), index))
    time.sleep(BLOCKER_SECONDS)


def burn_cpu(index: int) -> None:
    record((now(), index))
    burn_cpu_in_process()


def burn_cpu_in_process() -> float:
    """The blocker of the process variant: module-level and without arguments, so a
    worker process imports it by name. Its start is recorded by the adapter (the
    worker's list is not ours); it returns it anyway."""
    started = now()
    deadline = time.perf_counter() + BLOCKER_SECONDS
    while time.perf_counter() < deadline:
        pass
    return started


async def start_serving(adapter: Adapter, t0: float) -> asyncio.Task[None]:
    if not adapter.phase_free:
        await sleep_until(t0)
    return asyncio.create_task(adapter.serve())


def relative_starts(t0: float) -> list[list[float]]:
    return [[round(stamp - t0, 6), index] for stamp, index in list(starts)]


async def run_lateness(adapter: Adapter, args: argparse.Namespace) -> dict[str, Any]:
    n, period = args.n, LATENESS_PERIOD
    rng = random.Random(args.seed)
    phases = [rng.random() * period if args.phasing == "random" else 0.0 for _ in range(n)]
    if args.phasing == "random" and not adapter.phase_free:
        raise Unsupported("random phase needs a per-task start time, which this peer lacks")
    await adapter.open()
    t0 = round(now() + args.lead, 3)
    specs = [TaskSpec(f"t{i}", i, period, t0 + phases[i], record_start, True) for i in range(n)]
    registered_at = now()
    await adapter.add(specs[0], t0)
    # A scheduler's one-time costs are not a task's (our first trigger builds its pydantic
    # schema, about 3 MB): RSS counts from after the first task, per task after it.
    rss_before = resident_bytes()
    for spec in specs[1:]:
        await adapter.add(spec, t0)
    registered_in = now() - registered_at
    rss_after = resident_bytes()
    if not adapter.phase_free:
        # Its tasks only know "first run at serve start", so t0 can move past registration.
        t0 = max(t0, round(now() + SERVE_LEAD, 3))
    serving = await start_serving(adapter, t0)
    await sleep_until(t0 + CPU_WARMUP_SECONDS)
    cpu_from = (now(), time.process_time())
    await sleep_until(t0 + args.duration)
    cpu_to = (now(), time.process_time())
    await sleep_until(t0 + args.duration + period)
    serving.cancel()
    return {
        "t0": t0,
        "n": n,
        "period": period,
        "duration": args.duration,
        "phases": [round(p, 6) for p in phases] if args.phasing == "random" else [],
        "starts": relative_starts(t0),
        "cpu_window": [cpu_from[0] - t0, cpu_from[1], cpu_to[0] - t0, cpu_to[1]],
        "rss_before": rss_before,
        "rss_after": rss_after,
        "rss_tasks": n - 1,
        "registration_seconds": registered_in,
        "setup_overran": registered_at + registered_in > t0,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


async def run_drift(adapter: Adapter, args: argparse.Namespace) -> dict[str, Any]:
    await adapter.open()
    t0 = round(now() + args.lead, 3)
    await adapter.add(TaskSpec("drift", 0, DRIFT_PERIOD, t0, record_then_sleep, True), t0)
    serving = await start_serving(adapter, t0)
    deadline = t0 + args.duration
    while len(starts) < DRIFT_RUNS and now() < deadline:
        await asyncio.sleep(DRIFT_PERIOD / 2)
    serving.cancel()
    return {"t0": t0, "period": DRIFT_PERIOD, "starts": relative_starts(t0)}


async def run_blocking(adapter: Adapter, args: argparse.Namespace) -> dict[str, Any]:
    await adapter.open()
    t0 = round(now() + args.lead, 3)
    await adapter.add(TaskSpec("ticker", 0, BLOCKING_PERIOD, t0, record_start, True), t0)
    first_block = t0 + BLOCKER_PERIOD
    if args.variant != "alone":  # "alone": the ticker with nothing else running
        blocker, is_async, executor = BLOCKERS[args.variant]
        await adapter.add(
            TaskSpec("blocker", 1, BLOCKER_PERIOD, first_block, blocker, is_async, executor), t0
        )
    serving = await start_serving(adapter, t0)
    await sleep_until(t0 + args.duration + BLOCKING_PERIOD)
    serving.cancel()
    return {
        "t0": t0,
        "period": BLOCKING_PERIOD,
        "duration": args.duration,
        "starts": relative_starts(t0),
    }


BLOCKERS: dict[str, tuple[Callable[..., Any], bool, str | None]] = {
    "async": (block_loop, True, None),
    "thread": (burn_cpu, False, None),
    "process": (burn_cpu_in_process, False, "process"),
}
"""--variant of the blocking workload: (blocker, is async, executor)."""


async def run_first_run(adapter: Adapter, args: argparse.Namespace) -> dict[str, Any]:
    await adapter.open()
    t0 = now()
    await adapter.add(TaskSpec("first", 0, LATENESS_PERIOD, t0, record_start, True), t0)
    serving = asyncio.create_task(adapter.serve())
    while not starts:
        await asyncio.sleep(0.0005)
    serving.cancel()
    return {"first_run_epoch": starts[0][0]}


WORKLOADS: dict[str, Callable[[Adapter, argparse.Namespace], Awaitable[dict[str, Any]]]] = {
    "lateness": run_lateness,
    "drift": run_drift,
    "blocking": run_blocking,
    "first-run": run_first_run,
}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one benchmark workload on one peer.")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--phasing", choices=["aligned", "random"], default="aligned")
    parser.add_argument(
        "--variant", choices=["async", "thread", "process", "alone"], default="async"
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--lead", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def emit(result: dict[str, Any]) -> NoReturn:
    """Print the single JSON line and leave at once: teardown of 10,000 tasks is not measured."""
    sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(
    adapter: Adapter,
    extra: dict[str, Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]] | None = None,
) -> None:
    """Run the workload named on the command line and print its raw result as one JSON line."""
    args = parse_arguments(sys.argv[1:])
    extra = extra or {}

    async def run_and_emit() -> None:
        try:
            if args.workload in extra:
                result = await extra[args.workload](args)
            elif args.workload in WORKLOADS:
                result = await WORKLOADS[args.workload](adapter, args)
            else:
                raise Unsupported(f"workload {args.workload!r} not implemented for this peer")
        except Unsupported as reason:
            emit({"status": "unsupported", "reason": str(reason)})
        emit({"status": "ok", **result})

    asyncio.run(run_and_emit())
