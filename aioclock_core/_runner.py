"""Runner: executes one run of a task (DI, thread or loop, timeout, outcome, events)."""

from __future__ import annotations

import asyncio
import logging
import traceback
from datetime import timedelta
from typing import TYPE_CHECKING

from asyncer import asyncify

from aioclock_core._entry import Run, TaskEntry
from aioclock_core.events import RunFinished, RunOutcome, RunStarted
from aioclock_core.logs import RunContext, set_current_run
from aioclock_core.state import RunSummary

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler

logger = logging.getLogger("aioclock")


async def execute_run(scheduler: Scheduler, entry: TaskEntry, run: Run) -> None:
    """Run `entry`'s function once for `run`, and report how it went."""
    task = entry.task
    clock = scheduler.clock
    bus = scheduler.bus
    set_current_run(RunContext(task.id, task.name, run.run_id))
    started_at = clock.now()
    started = clock.monotonic()
    if bus.active:
        bus.publish(
            RunStarted(
                at=started_at,
                task_id=task.id,
                task_name=task.name,
                run_id=run.run_id,
                scheduled_for=run.scheduled_for,
                started_at=started_at,
                kind=run.kind,
            )
        )
    timer = None
    if task.timeout is not None:
        timer = clock.call_at(started_at + timedelta(seconds=task.timeout), lambda: _time_out(run))
    outcome = RunOutcome.SUCCEEDED
    error: BaseException | None = None
    try:
        if entry.is_async:
            run.result = await entry.call()
        else:
            clock.work_started()
            try:
                run.result = await asyncify(
                    entry.call, abandon_on_cancel=True, limiter=entry.limiter
                )()
            finally:
                clock.work_finished()
    except asyncio.CancelledError as cancelled:
        error = cancelled
        outcome = RunOutcome.TIMED_OUT if run.timed_out else RunOutcome.CANCELLED
        raise
    except Exception as exc:
        error = exc
        outcome = RunOutcome.FAILED
        logger.error("Task %s failed: %r", task.name, exc, exc_info=exc)
    finally:
        if timer is not None:
            timer.cancel()
        run.error = error
        duration = clock.monotonic() - started
        summary = _summarize(run, started_at, duration, outcome, error, task.timeout)
        if outcome is RunOutcome.TIMED_OUT:
            logger.error(
                "Task %s timed out after %.3g s and was cancelled", task.name, task.timeout
            )
        scheduler.run_ended(entry, run, summary)
        if bus.active:
            bus.publish(
                RunFinished(
                    at=clock.now(),
                    task_id=task.id,
                    task_name=task.name,
                    run_id=run.run_id,
                    scheduled_for=run.scheduled_for,
                    started_at=started_at,
                    finished_at=clock.now(),
                    kind=run.kind,
                    outcome=outcome,
                    duration=duration,
                    error_type=summary.error_type,
                    error_message=summary.error_message,
                    traceback=summary.traceback,
                )
            )


def _time_out(run: Run) -> None:
    if run.task is not None and not run.task.done():
        run.timed_out = True
        run.task.cancel("timeout")


def _summarize(
    run: Run,
    started_at: object,
    duration: float,
    outcome: RunOutcome,
    error: BaseException | None,
    timeout: float | None,
) -> RunSummary:
    error_type = error_message = text = None
    if outcome is RunOutcome.TIMED_OUT:
        error_type = "TaskTimeoutError"
        error_message = f"run exceeded its timeout of {timeout:g} s and was cancelled"
        text = "".join(traceback.format_exception(error)) if error is not None else None
    elif outcome is RunOutcome.CANCELLED:
        error_type = "CancelledError"
        error_message = "run was cancelled"
    elif error is not None:
        error_type = type(error).__name__
        error_message = str(error)
        text = "".join(traceback.format_exception(error))
    return RunSummary(
        run_id=run.run_id,
        kind=run.kind,
        scheduled_for=run.scheduled_for,
        started_at=started_at,  # type: ignore[arg-type]
        duration=duration,
        outcome=outcome,
        error_type=error_type,
        error_message=error_message,
        traceback=text,
    )
