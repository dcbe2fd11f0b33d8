"""What an idle registered task and a kept run cost in memory, counted by tracemalloc
(steadier than RSS).

The bounds pin what issue 17 reached; the benchmark's "RSS per idle task" column is the
same cost seen from outside (docs/benchmarks.md)."""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aioclock_core import AioClock, Every
from aioclock_core._entry import Run
from aioclock_core._scheduler import new_run_id
from aioclock_core.runs import RunKind, RunOutcome
from aioclock_core.stores import MemoryStore
from aioclock_core.task import task_id_for

TASKS = 500
OLDER_PYTHON = 1.15 if sys.version_info < (3, 11) else 1.0
"""Python 3.10's objects and dicts are larger: the same trigger measured 441 B there
against 360 B on 3.11, a registered task 787 B against 706 B (before TaskSettings)."""


async def tick() -> None:
    return None


def bytes_per(build: Callable[[int], Any]) -> float:
    """Bytes still allocated per call of `build(i)` after TASKS calls (results kept)."""
    build(-1)  # the first one may build schemas and caches
    kept = []
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(TASKS):
            kept.append(build(index))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / TASKS


def test_an_idle_every_trigger_takes_at_most_400_bytes() -> None:
    # 760 bytes before issue 17: a private-attribute dict and a fields set of its own.
    assert bytes_per(lambda index: Every(seconds=1)) <= 400 * OLDER_PYTHON


def test_a_registered_every_task_takes_at_most_620_bytes() -> None:
    # Its trigger, Task, id and the app's index of it; the name is the caller's string.
    # 1,106 bytes before issue 17, 706 before tasks shared their TaskSettings.
    app = AioClock()
    names = [f"task-{index}" for index in range(-1, TASKS)]

    def register(index: int) -> None:
        app.task(trigger=Every(seconds=1), name=names[index + 1])(tick)

    assert bytes_per(register) <= 620 * OLDER_PYTHON


def test_tasks_registered_alike_share_one_settings_object() -> None:
    # What the 620 bytes above rely on: a task holds its settings by one reference.
    app = AioClock()
    app.task(trigger=Every(seconds=1), name="first", timeout=5)(tick)
    app.task(trigger=Every(seconds=2), name="second", timeout=5)(tick)
    app.task(trigger=Every(seconds=1), name="other", timeout=6)(tick)
    tasks = {task.name: task for task in app.tasks}
    assert tasks["first"].settings is tasks["second"].settings
    assert tasks["other"].settings is not tasks["first"].settings
    assert (tasks["first"].timeout, tasks["other"].timeout) == (5, 6)
    # Equal but of another type: its own settings, so it reads back as written.
    app.task(trigger=Every(seconds=1), name="float", timeout=5.0)(tick)
    as_float = next(task for task in app.tasks if task.name == "float")
    assert as_float.settings is not tasks["first"].settings
    assert type(as_float.timeout) is float and type(tasks["first"].timeout) is int


def test_a_run_kept_by_the_memory_store_takes_at_most_400_bytes() -> None:
    # A short successful run as the scheduler records it (its own run id, instants and
    # duration; the task's id and name are shared with the task). 364 bytes at issue 17.
    store = MemoryStore()
    task_id = task_id_for("task")
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)

    def keep_a_run(index: int) -> None:
        run = Run(
            task_id=task_id,
            task_name="task",
            run_id=new_run_id(),
            kind=RunKind.SCHEDULE,
            scheduled_for=start + timedelta(seconds=index),
            now=lambda: start,
        )
        run.started_at = start + timedelta(seconds=index, microseconds=150)
        run.duration = 0.000042
        run.outcome = RunOutcome.SUCCEEDED
        store.deliver([run.finished_record()])

    assert bytes_per(keep_a_run) <= 400
