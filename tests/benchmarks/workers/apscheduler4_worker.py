"""APScheduler 4 (pre-release) worker: AsyncScheduler with its default in-memory data store."""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler import AsyncScheduler, CoalescePolicy
from apscheduler.triggers.interval import IntervalTrigger
from harness import TaskSpec, main


class APScheduler4Adapter:
    """Schedules with IntervalTrigger(start_time=...): fixed rate on start_time + k·interval."""

    phase_free = True

    def __init__(self) -> None:
        self.scheduler = AsyncScheduler()
        self.configured: set[str] = set()

    async def open(self) -> None:
        await self.scheduler.__aenter__()

    async def add(self, spec: TaskSpec, t0: float) -> None:
        # One task definition per body function, with no cap on its concurrent jobs (all
        # schedules share it) and no start deadline. Schedules then refer to it by id:
        # passing the callable again would reset the task to the scheduler's defaults.
        executor = "async" if spec.is_async else "threadpool"
        task_id = f"{spec.func.__name__}-{executor}"
        if task_id not in self.configured:
            self.configured.add(task_id)
            await self.scheduler.configure_task(
                task_id,
                func=spec.func,
                job_executor=executor,
                max_running_jobs=None,
                misfire_grace_time=None,
            )
        start = datetime.fromtimestamp(spec.first, tz=timezone.utc)
        await self.scheduler.add_schedule(
            task_id,
            IntervalTrigger(seconds=spec.period, start_time=start),
            id=spec.name,
            args=(spec.index,),
            coalesce=CoalescePolicy.all,
            misfire_grace_time=None,
        )

    async def serve(self) -> None:
        await self.scheduler.run_until_stopped()


if __name__ == "__main__":
    main(APScheduler4Adapter())
