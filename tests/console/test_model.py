"""The console's model on its own: runs of this session and of earlier ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

from aioclock_core import AioClock, Every
from aioclock_core.events import RunKind, RunOutcome, SchedulerStarted
from aioclock_core.stores.memory import _as_record as stored  # how a store keeps a run
from clocktui.model import ConsoleModel

START = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)


@dataclass(eq=False)
class Run:
    """What `AioClock.watch_runs` hands over (the LiveRun protocol)."""

    task_id: UUID
    started_at: datetime
    task_name: str = "sync"
    run_id: UUID = field(default_factory=uuid4)
    kind: RunKind = RunKind.SCHEDULE
    ended: bool = True
    duration: float = 0.5
    outcome: RunOutcome | None = RunOutcome.SUCCEEDED
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None

    @property
    def scheduled_for(self) -> datetime:
        return self.started_at


def model_of_one_task() -> tuple[ConsoleModel, UUID]:
    app = AioClock(name="model")

    @app.task(trigger=Every(seconds=10), name="sync")
    async def sync() -> None:
        return None

    task_id = app.tasks[0].id
    return ConsoleModel(app.tasks), task_id


def test_a_run_of_this_session_the_store_had_first_is_shown_once() -> None:
    model, task_id = model_of_one_task()
    model.apply([SchedulerStarted(at=START, task_count=1)])
    earlier = Run(task_id, START - timedelta(minutes=1))
    current = Run(task_id, START)
    # The history read at start-up found this session's first run already stored, before
    # the scheduler's hand-over of the same run reached the console.
    model.seed({task_id: [stored(current), stored(earlier)]}, paused=[])
    model.apply_runs([current, current])  # its start, then its end
    view = model.tasks[task_id]
    assert [run.run_id for run in view.recent] == [earlier.run_id, current.run_id]
    assert view.run_count == 1


def test_runs_of_earlier_sessions_fill_the_last_run_until_this_session_runs() -> None:
    model, task_id = model_of_one_task()
    model.apply([SchedulerStarted(at=START, task_count=1)])
    earlier = Run(task_id, START - timedelta(minutes=1), duration=2.0)
    model.seed({task_id: [stored(earlier)]}, paused=[])
    view = model.tasks[task_id]
    assert (view.last_started, view.run_count) == (earlier.started_at, 0)
    assert view.last_finished == earlier.started_at + timedelta(seconds=2)

    current = Run(task_id, START + timedelta(seconds=10), duration=0.25)
    model.apply_runs([current, current])
    assert view.last_finished == current.started_at + timedelta(seconds=0.25)
