"""APScheduler 3.11 worker: AsyncIOScheduler with in-memory job store and the asyncio executor."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from harness import TaskSpec, main

# No firing may be dropped by policy: run however late, never merge missed runs,
# allow overlapping instances (an empty body never overlaps unless the loop stalls).
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": False, "max_instances": 1000}


class APScheduler3Adapter:
    """Interval jobs anchored at start_date: fixed rate on start_date + k·interval."""

    phase_free = True

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults=JOB_DEFAULTS)

    async def open(self) -> None:
        return None

    async def add(self, spec: TaskSpec, t0: float) -> None:
        start = datetime.fromtimestamp(spec.first, tz=timezone.utc)
        trigger = IntervalTrigger(seconds=spec.period, start_date=start, timezone=timezone.utc)
        # next_run_time pins the first run to spec.first even when that instant has just
        # passed (APScheduler 3 would otherwise move it to the next grid point).
        self.scheduler.add_job(
            spec.func, trigger, args=(spec.index,), id=spec.name, next_run_time=start
        )

    async def serve(self) -> None:
        self.scheduler.start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    main(APScheduler3Adapter())
