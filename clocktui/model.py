"""The console's model of the app: one TaskView per task, updated only by core events."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Union
from uuid import UUID

from aioclock_core.events import (
    Event,
    RunKind,
    RunOutcome,
    RunSkipped,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    TaskPaused,
    TaskResumed,
)
from aioclock_core.state import LiveRun
from aioclock_core.stores import RunRecord as StoredRun
from aioclock_core.task import Task
from clocktui.formatting import FAILED_OUTCOMES, inert

__all__ = ["RECENT_RUNS", "SchedulerPhase", "RunRecord", "TaskView", "ConsoleModel"]

RECENT_RUNS = 50
"""Finished runs kept per task for the detail screen."""


class SchedulerPhase(str, Enum):
    """Where the hosted scheduler is, as the console shows it."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping…"
    STOPPED = "stopped"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One finished run, as the detail screen lists it."""

    started_at: datetime
    duration: float
    outcome: RunOutcome
    kind: RunKind
    error: str | None
    run_id: UUID | None = None

    @classmethod
    def of(cls, run: StoredRun) -> RunRecord:
        """The console's record of a run the store kept (a finished one)."""
        assert run.outcome is not None
        return cls(
            run.started_at, run.duration or 0.0, run.outcome, run.kind, _error_of(run), run.run_id
        )


RecentRun = Union[RunRecord, LiveRun]
"""A run in a task's recent list: a record from the store, or the scheduler's own run
object (kept as is: converting thousands a second would cost more than showing them)."""


def _error_of(run: StoredRun | LiveRun) -> str | None:
    if run.outcome not in FAILED_OUTCOMES:
        return None
    return ": ".join(part for part in (run.error_type, run.error_message) if part) or None


@dataclass(slots=True)
class TaskView:
    """What the console knows about one task."""

    task_id: UUID
    name: str
    group: str
    trigger: str
    timeout: float | None
    next_fire_time: datetime | None = None
    running: int = 0
    paused: bool = False
    exhausted: bool = False
    last_started: datetime | None = None
    last_duration: float | None = None
    last_outcome: RunOutcome | None = None
    last_skipped: datetime | None = None
    run_count: int = 0
    failure_count: int = 0
    skip_count: int = 0
    last_traceback: str | None = None
    last_error: str | None = None
    recent: deque[RecentRun] = field(default_factory=lambda: deque(maxlen=RECENT_RUNS))
    recent_changes: int = 0
    """Bumped whenever `recent` changes (a run finished, or history was loaded)."""
    seeded_ids: set[UUID] | None = None
    """Runs `recent` got from the store, while this session's runs may repeat them."""

    @property
    def state(self) -> str:
        """``running``, ``paused``, ``finished`` or ``idle``."""
        if self.running:
            return "running"
        if self.paused:
            return "paused"
        if self.exhausted:
            return "finished"
        return "idle"

    @property
    def failing(self) -> bool:
        """Whether the last run failed or timed out."""
        return self.last_outcome in FAILED_OUTCOMES

    @property
    def last_finished(self) -> datetime | None:
        """When the latest finished run ended: the newest of `recent` (worked out when
        asked: the console folds thousands of runs a second and draws a few dozen rows)."""
        if not self.recent:
            return None
        last = self.recent[-1]
        if last.started_at is None:
            return None
        return last.started_at + timedelta(seconds=last.duration or 0.0)

    @property
    def skipped_last(self) -> bool:
        """Whether the latest firing was skipped (after the latest finished run)."""
        if self.last_skipped is None:
            return False
        finished = self.last_finished
        return finished is None or self.last_skipped >= finished

    @classmethod
    def of(cls, task: Task) -> TaskView:
        """A fresh view of a registered task."""
        return cls(
            task_id=task.id,
            name=inert(task.name),  # shown in many places: made inert once, here
            group=inert(task.group or ""),
            trigger=task.trigger.describe(),
            timeout=task.timeout,
        )


class ConsoleModel:
    """Every task's view plus the scheduler's phase: `apply` folds events in, `apply_runs`
    the scheduler's runs, `plan` the next firings."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        self.tasks: dict[UUID, TaskView] = {task.id: TaskView.of(task) for task in tasks}
        self.phase = SchedulerPhase.STARTING
        self.version = 0
        """Bumped whenever anything changes, so views can skip work when nothing did."""
        self._in_flight: set[LiveRun] = set()
        self._by_identity: dict[int, tuple[UUID, TaskView]] = {}
        self._counts: tuple[int, tuple[int, int, int]] = (-1, (0, 0, 0))

    def apply_runs(self, runs: Iterable[LiveRun]) -> tuple[list[LiveRun], list[UUID]]:
        """Fold in runs the scheduler handed over (`AioClock.watch_runs`): each run object
        comes twice, when it starts and when it ends, in that order. Returns the failed
        runs (for notifications) and the tasks touched."""
        failures: list[LiveRun] = []
        touched: dict[int, UUID] = {}
        in_flight = self._in_flight
        by_identity = self._by_identity
        succeeded = RunOutcome.SUCCEEDED
        for run in runs:
            found = by_identity.get(id(run.task_id)) or self._found(run.task_id)
            if found is None:
                continue
            task_id, view = found
            touched[id(task_id)] = task_id
            if run not in in_flight:
                in_flight.add(run)
                view.running += 1
                view.last_started = run.started_at
                continue
            in_flight.discard(run)
            # Inline: this runs for every firing (thousands a second in a busy app).
            outcome = run.outcome
            view.running = view.running - 1 if view.running > 0 else 0
            view.last_started = run.started_at
            view.last_duration = run.duration
            view.last_outcome = outcome
            view.run_count += 1
            if view.seeded_ids is not None:
                self._drop_stored_copy(view, run)
            view.recent.append(run)
            view.recent_changes += 1
            if outcome is not succeeded and outcome in FAILED_OUTCOMES:
                self._failed(view, run)
                failures.append(run)
        if touched:
            self.version += 1
        return failures, list(touched.values())

    def _found(self, task_id: UUID) -> tuple[UUID, TaskView] | None:
        """The view of `task_id`, remembered by the identity of the UUID object: the core
        hands out each task's own UUID, and finding it by identity spares hashing a UUID
        (Python code) for every run and next firing."""
        view = self.tasks.get(task_id)
        if view is None:
            return None
        if len(self._by_identity) > 2 * len(self.tasks):  # other copies of the same UUIDs
            self._by_identity.clear()
        found = self._by_identity[id(task_id)] = (task_id, view)  # holds the UUID: ids stay valid
        return found

    def plan(self, next_fire_times: Mapping[UUID, datetime | None]) -> None:
        """Set the next firing of the tasks given (from `AioClock.next_fire_times`)."""
        by_identity = self._by_identity
        for task_id, when in next_fire_times.items():
            found = by_identity.get(id(task_id)) or self._found(task_id)
            if found is None:
                continue
            view = found[1]
            if view.next_fire_time != when or view.exhausted is not (when is None):
                view.next_fire_time = when
                view.exhausted = when is None
                self.version += 1

    def apply(self, events: Iterable[Event]) -> None:
        """Fold in the bus's events (the console subscribes to `bridge.EVENT_KINDS`: runs
        come through `apply_runs`, next firings through `plan`)."""
        for event in events:
            self.version += 1
            if isinstance(event, RunSkipped):
                view = self.tasks.get(event.task_id)
                if view is not None:
                    view.skip_count += event.count
                    view.last_skipped = event.at
            elif isinstance(event, (TaskPaused, TaskResumed)):
                view = self.tasks.get(event.task_id)
                if view is not None:
                    view.paused = isinstance(event, TaskPaused)
            elif isinstance(event, SchedulerStarted):
                self.phase = SchedulerPhase.RUNNING
            elif isinstance(event, SchedulerStopping):
                self.phase = SchedulerPhase.STOPPING
            elif isinstance(event, SchedulerStopped):
                self.phase = SchedulerPhase.STOPPED
                for view in self.tasks.values():
                    view.next_fire_time = None

    @staticmethod
    def _drop_stored_copy(view: TaskView, run: LiveRun) -> None:
        """The history read at start-up may have found this session's first runs stored
        before their hand-over reached the console: show each run once. Runs are handed
        over in order, so the first one the store did not have ends the check."""
        assert view.seeded_ids is not None
        if run.run_id not in view.seeded_ids:
            view.seeded_ids = None
            return
        view.seeded_ids.discard(run.run_id)
        view.recent = deque(
            (kept for kept in view.recent if kept.run_id != run.run_id), maxlen=RECENT_RUNS
        )

    @staticmethod
    def _failed(view: TaskView, run: LiveRun) -> None:
        assert run.outcome is not None
        view.failure_count += 1
        view.last_error = _error_of(run) or run.outcome.value
        if run.traceback:
            view.last_traceback = run.traceback

    def seed(self, runs: Mapping[UUID, Sequence[StoredRun]], paused: Iterable[UUID]) -> None:
        """Fold in what the store knew at start-up: runs of earlier sessions (newest first)
        and tasks restored paused. Runs already shown are not added twice (nor are runs
        of this session the store had before their hand-over arrived: `apply_runs` drops
        the stored copy); the run and failure counters keep counting this session only."""
        self.version += 1
        for task_id in paused:
            if task_id in self.tasks:
                self.tasks[task_id].paused = True
        for task_id, stored in runs.items():
            view = self.tasks.get(task_id)
            if view is None:
                continue
            seen = {record.run_id for record in view.recent}
            earlier = [r for r in stored if r.outcome is not None and r.run_id not in seen]
            if not earlier:
                continue
            view.recent = deque(
                [*(RunRecord.of(r) for r in reversed(earlier)), *view.recent], maxlen=RECENT_RUNS
            )
            view.seeded_ids = (view.seeded_ids or set()) | {r.run_id for r in earlier}
            view.recent_changes += 1
            if view.last_outcome is None:
                newest = earlier[0]
                view.last_started = newest.started_at
                view.last_duration = newest.duration
                view.last_outcome = newest.outcome
            failed = next((r for r in earlier if r.outcome in FAILED_OUTCOMES), None)
            if failed is not None and view.last_error is None:
                view.last_error = _error_of(failed) or failed.outcome.value  # type: ignore[union-attr]
                view.last_traceback = failed.traceback

    def counts(self) -> tuple[int, int, int]:
        """How many tasks are running, paused and failing (counted once per `version`:
        the header asks on every redraw)."""
        if self._counts[0] != self.version:
            running = paused = failing = 0
            for view in self.tasks.values():
                running += view.running > 0
                paused += view.paused
                failing += view.failing
            self._counts = (self.version, (running, paused, failing))
        return self._counts[1]
