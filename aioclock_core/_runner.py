"""Runner: executes one run of a task (DI, thread or loop, timeout, outcome, events)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback
from datetime import timedelta
from typing import TYPE_CHECKING

from aioclock_core._entry import Run, TaskEntry
from aioclock_core.coordination import UnavailablePolicy, firing_key
from aioclock_core.events import SkipReason
from aioclock_core.logs import set_current_run
from aioclock_core.runs import RunOutcome

if TYPE_CHECKING:
    from aioclock_core._scheduler import Scheduler

logger = logging.getLogger("aioclock")

_SUCCEEDED = RunOutcome.SUCCEEDED


async def execute_run(scheduler: Scheduler, entry: TaskEntry, run: Run) -> None:
    """Run `entry`'s function once for `run`, and report how it went.

    This is the hot path of every firing: nothing here is built unless something
    needs it (events only with subscribers, error text only on failure).
    """
    clock = scheduler.clock
    delivery = scheduler.delivery
    if scheduler.coordinator is not None and not await _claimed(scheduler, entry, run):
        return  # the claim is on the nominal instant: jitter never splits a firing
    if run.delay:
        try:
            await clock.sleep(run.delay)
        except asyncio.CancelledError:  # shutdown (or a cancel) before its jittered start
            scheduler.run_declined(entry, run, SkipReason.MISSED, "cancelled before it started")
            raise
    set_current_run(run)
    run.started_at = started_at = clock.now()
    started = clock.monotonic()
    if delivery.wants_started:
        delivery.started(run)
    timeout = entry.task.settings.timeout
    timer = None
    if timeout is not None:
        timer = clock.call_at(started_at + timedelta(seconds=timeout), lambda: _time_out(run))
    run.outcome = _SUCCEEDED
    try:
        if entry.executor == "loop":
            run.result = await entry.call()
        elif entry.executor == "thread":
            from aioclock_core._threads import call_in_thread  # anyio: only for sync tasks

            run.result = await call_in_thread(scheduler, entry, run)
            if inspect.iscoroutine(run.result):  # e.g. a lambda that calls an async def
                run.result.close()  # never awaited, and no warning about it
                run.result = None
                raise TypeError(
                    "the task is a plain function and returned a coroutine, which was "
                    "never awaited: define it with async def"
                )
        else:
            from aioclock_core._processes import call_in_process

            run.result = await call_in_process(scheduler, entry, run)
    except asyncio.CancelledError as cancelled:
        _note_cancellation(run, cancelled, timeout)
        raise
    # Not only Exception: a task that raises SystemExit, KeyboardInterrupt or another
    # BaseException (sys.exit() in a job) must fail its run, not stop the whole app.
    except BaseException as exc:
        run.error = exc
        run.outcome = RunOutcome.FAILED
        run.error_type = type(exc).__name__
        run.error_message = str(exc)
        run.traceback = "".join(traceback.format_exception(exc))
        logger.error("Task %s failed: %r", run.task_name, exc, exc_info=exc)
    finally:
        if timer is not None:
            timer.cancel()
        run.duration = clock.monotonic() - started
        # The record leaves before the scheduler counts the run as over, so that a sink
        # told "idle" has always had the run's end first.
        run.record = record = run.finished_record()
        delivery.finished(record)
        scheduler.run_ended(entry, run, record)
        # The run and its asyncio task refer to each other (and the task's context holds
        # the run): cut the cycle, so both are freed when the task ends instead of by the
        # cyclic collector (which at 10,000 runs a second doubled the cost of a firing).
        run.task = None


async def _claimed(scheduler: Scheduler, entry: TaskEntry, run: Run) -> bool:
    """Ask the coordinator whether this replica runs the firing; report it if not."""
    coordinator = scheduler.coordinator
    assert coordinator is not None
    key = run.claim_key or firing_key(run.scheduled_for)
    ttl = (entry.task.settings.timeout or 0.0) + scheduler.claim_margin
    claim = await coordinator.claim(run.task_id, key, ttl)
    if claim.won:
        entry.coordination_warned = False
        return True
    if claim.error is not None and coordinator.policy is UnavailablePolicy.RUN:
        logger.warning(
            "Task %s: coordinator unavailable (%s); running locally as the policy says",
            run.task_name,
            claim.error,
        )
        return True
    if claim.error is not None:
        if not entry.coordination_warned:  # once per task per outage, not per firing
            entry.coordination_warned = True
            logger.warning(
                "Task %s: firings skipped while the coordinator is unavailable (%s); "
                "RunSkipped(reason=unavailable) events report each one",
                run.task_name,
                claim.error,
            )
        scheduler.run_declined(entry, run, SkipReason.UNAVAILABLE, claim.error)
    else:
        scheduler.run_declined(entry, run, SkipReason.ELSEWHERE, claim.holder)
    return False


def _note_cancellation(run: Run, cancelled: asyncio.CancelledError, timeout: float | None) -> None:
    run.error = cancelled
    if run.timed_out:
        run.outcome = RunOutcome.TIMED_OUT
        run.error_type = "TaskTimeoutError"
        fate = _what_became_of(run, " and was cancelled")
        run.error_message = f"run exceeded its timeout of {timeout:g} s{fate}"
        run.traceback = "".join(traceback.format_exception(cancelled))
        logger.error("Task %s timed out after %.3g s%s", run.task_name, timeout, fate)
    else:
        run.outcome = RunOutcome.CANCELLED
        run.error_type = "CancelledError"
        run.error_message = f"run was cancelled{_what_became_of(run, '')}"


def _what_became_of(run: Run, otherwise: str) -> str:
    """The end of a timed-out or cancelled run's message: what happened to its body."""
    if run.waiting_for is not None:
        return f" while waiting for {run.waiting_for} (all of them were busy)"
    if run.thread_running:
        return (
            "; its worker thread is still running (Python cannot stop a thread) and keeps "
            "the task's slot until it returns"
        )
    if run.process_killed:
        return "; its worker process was terminated"
    return otherwise


def _time_out(run: Run) -> None:
    if run.task is not None and not run.task.done():
        run.timed_out = True
        run.task.cancel("timeout")
