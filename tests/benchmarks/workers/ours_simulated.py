"""Simulated-time workloads (ours only) on one week of 1,000 mixed Every/Cron/At tasks: served
on the FakeClock, and computed ahead by `aioclock_core.simulation` (what `clocktui simulate`
does, without running anything)."""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from aioclock_core import AioClock, At, Cron, Every
from aioclock_core.simulation import dst_transitions, simulate
from aioclock_core.testing import FakeClock, serving

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
CRONS = ("*/5 * * * *", "0 * * * *", "30 2 * * *", "15 */6 * * 1-5", "0 9 * * 1")
DAYS = ("every day", "every monday", "every friday", "every sunday")
EVERY_TASKS, CRON_TASKS, AT_TASKS = 400, 300, 300
SIMULATED_DAYS = 7

fired = [0]


async def count_firing() -> None:
    fired[0] += 1


def register_mixed_tasks(app: AioClock, seed: int) -> int:
    """400 Every (1–60 min), 300 Cron and 300 At (daily or weekly) in several zones."""
    rng = random.Random(seed)
    triggers: list[Any] = []
    for _ in range(EVERY_TASKS):
        triggers.append(Every(minutes=rng.randint(1, 60), first_run_strategy="immediate"))
    for i in range(CRON_TASKS):
        triggers.append(Cron(cron=CRONS[i % len(CRONS)], tz=rng.choice(ZONES)))
    for _ in range(AT_TASKS):
        triggers.append(
            At(
                hour=rng.randrange(24),
                minute=rng.randrange(60),
                at=rng.choice(DAYS),
                tz=rng.choice(ZONES),
            )
        )
    for index, trigger in enumerate(triggers):
        app.task(trigger=trigger, name=f"sim{index}")(count_firing)
    return len(triggers)


START = datetime(2026, 3, 23, tzinfo=timezone.utc)
"""A Monday; the week holds Europe/Berlin's spring-forward night."""
HERD_SIZE = 10


async def run_simulated_week(args: argparse.Namespace) -> dict[str, Any]:
    clock = FakeClock(start=START)
    app = AioClock(clock=clock)
    tasks = register_mixed_tasks(app, args.seed)
    async with serving(app):
        wall, cpu = time.perf_counter(), time.process_time()
        await clock.advance(days=SIMULATED_DAYS)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "firings": fired[0],
        "tasks": tasks,
        "simulated_days": SIMULATED_DAYS,
    }


async def run_simulation_ahead(args: argparse.Namespace) -> dict[str, Any]:
    """Every firing of the week computed ahead, with the herds and the DST changes of the
    tasks' zones that `clocktui simulate` reports (its summary's work, not its printing)."""
    app = AioClock()
    tasks = register_mixed_tasks(app, args.seed)
    end = START + timedelta(days=SIMULATED_DAYS)
    wall, cpu = time.perf_counter(), time.process_time()
    simulation = simulate(app, START, end)
    simulation.herds(HERD_SIZE)
    for zone in {task.zone for task in simulation.tasks}:
        dst_transitions(zone, START, end)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "firings": simulation.firing_count,
        "tasks": tasks,
        "simulated_days": SIMULATED_DAYS,
    }
