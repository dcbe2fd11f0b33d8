"""Worker threads of sync tasks: a thread keeps its limiter token and its run's overlap
slot until its body really returns, even after the run timed out or was cancelled."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import anyio.to_thread

if TYPE_CHECKING:
    from aioclock_core._entry import Run, TaskEntry
    from aioclock_core._scheduler import Scheduler

DEFAULT_THREADS = 40
"""Worker threads of sync tasks at most, per event loop, where no limiter says otherwise
(anyio's default). Their own limiter, not anyio's default one: a thread of a timed-out
run holds its token until it returns, which must not starve other anyio users."""

_default_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
    "aioclock_task_threads"
)
_unbounded: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar(
    "aioclock_unbounded_threads"
)
"""The limiter handed to anyio, which gives its token back as soon as the awaiting run is
cancelled; the real one (the task's) is held here until the thread ends."""


def _per_loop(
    variable: anyio.lowlevel.RunVar[anyio.CapacityLimiter], tokens: float
) -> anyio.CapacityLimiter:
    try:
        return variable.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(tokens)
        variable.set(limiter)
        return limiter


async def call_in_thread(scheduler: Scheduler, entry: TaskEntry, run: Run) -> Any:
    """Call `entry.call()` in a worker thread and return its result.

    Waiting for a token of the task's limiter (default: `DEFAULT_THREADS`) is part of the run, so
    its timeout covers it. If the run is cancelled (timeout, shutdown, a user), it ends
    at once, but the thread cannot be stopped: the token and the run's overlap slot stay
    taken until the body returns, and the scheduler is told then (`thread_returned`).
    """
    loop = asyncio.get_running_loop()
    clock = scheduler.clock
    limiter = entry.limiter or _per_loop(_default_limiter, DEFAULT_THREADS)
    run.waiting_for = "a worker thread"
    await limiter.acquire_on_behalf_of(run)
    run.waiting_for = None
    run.thread_running = True
    clock.work_started()
    call = entry.call
    gate = threading.Lock()
    state = {"started": False, "abandoned": False, "awaited": True}

    def release() -> None:  # the token, and the fake clock's count of busy threads
        limiter.release_on_behalf_of(run)
        clock.work_finished()

    def returned() -> None:  # on the loop, once the body has returned
        run.thread_running = False
        if state["awaited"]:
            return  # the run still waits: it releases once it has the body's answer
        release()
        if run.overran:
            scheduler.thread_returned(entry, run)

    def body() -> Any:
        with gate:
            if state["abandoned"]:  # the run was cancelled before the thread took it
                return None
            state["started"] = True
        try:
            return call()
        finally:
            try:
                loop.call_soon_threadsafe(returned)
            except RuntimeError:  # the loop is closed: the app stopped while we ran
                pass

    try:
        return await anyio.to_thread.run_sync(
            body, abandon_on_cancel=True, limiter=_per_loop(_unbounded, math.inf)
        )
    finally:
        state["awaited"] = False
        with gate:
            never_started = not state["started"]
            state["abandoned"] = never_started
        if never_started:
            run.thread_running = False
        if not run.thread_running:  # else the thread keeps its slots until `returned`
            release()
