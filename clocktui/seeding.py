"""Seed the console from the app's store: runs of earlier sessions and restored pauses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Mapping, Sequence
from uuid import UUID

from textual.message import Message
from textual.message_pump import MessagePump

from aioclock_core import AioClock
from aioclock_core.stores import RunRecord

__all__ = ["HistoryLoaded", "load_history", "request_history"]

logger = logging.getLogger("clocktui")


class HistoryLoaded(Message):
    """What the store knew when the scheduler started."""

    def __init__(self, runs: Mapping[UUID, Sequence[RunRecord]], paused: set[UUID]) -> None:
        super().__init__()
        self.runs = runs
        self.paused = paused


async def load_history(app: AioClock, task_ids: list[UUID], limit: int) -> HistoryLoaded:
    """Read the tasks' newest runs from the store and which tasks are paused; call it on
    the scheduler's loop once serving started (the store does its reading off the loop)."""
    found = await asyncio.gather(*(app.store.recent_runs(task_id, limit) for task_id in task_ids))
    # Paused state restored from the store comes with no TaskPaused event: ask the scheduler.
    paused = {snapshot.task_id for snapshot in app.snapshots() if snapshot.paused}
    return HistoryLoaded(dict(zip(task_ids, found, strict=True)), paused)


def request_history(
    app: AioClock,
    loop: asyncio.AbstractEventLoop,
    target: MessagePump,
    task_ids: list[UUID],
    limit: int,
) -> None:
    """Load the tasks' history on `loop` (the scheduler's); post it to `target`."""

    def done(future: concurrent.futures.Future[HistoryLoaded]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            logger.warning("Could not load the run history from the store: %r", error)
            return
        target.post_message(future.result())

    try:
        future = asyncio.run_coroutine_threadsafe(load_history(app, task_ids, limit), loop)
    except RuntimeError:  # the scheduler's loop is closed: it has stopped already
        return
    future.add_done_callback(done)
