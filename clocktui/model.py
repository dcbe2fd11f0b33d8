"""The console's model of the app: one TaskView per task, updated only by core events."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from uuid import UUID

from aioclock_core.events import (
    Event,
    RunSkipped,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    TaskAdded,
    TaskPaused,
    TaskRemoved,
    TaskRescheduled,
    TaskResumed,
    ThreadOverran,
    ThreadReturned,
)
from aioclock_core.runs import RunOutcome, RunRecord
from aioclock_core.state import task_state
from aioclock_core.task import Task
from clocktui.formatting import inert, outcome_word

__all__ = [
    "RECENT_RUNS",
    "RECENT_TOTAL",
    "SchedulerPhase",
    "TaskView",
    "ReplicaView",
    "Snapshot",
    "ConsoleModel",
]

RECENT_RUNS = 50
"""Finished runs a task's view keeps at most (the detail screen's list and durations)."""
RECENT_TOTAL = 20_000
"""Finished runs all views keep together, about: like the core's memory store, a large
app's views keep fewer each (4 at 5,000 tasks). Each run kept is an object the cyclic
collector promotes and scans while it lives: at 5,000 `Every(1 s)` tasks, 50 a view was
250,000 runs and a model that grew for 50 s. A task whose details are open keeps
RECENT_RUNS (`ConsoleModel.widen`), and the detail screen reads them from the history."""
MIN_RECENT = 3
"""Finished runs a view keeps however many tasks there are."""


class SchedulerPhase(str, Enum):
    """Where the hosted scheduler is, as the console shows it."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping…"
    STOPPED = "stopped"
    CRASHED = "crashed"
    DISCONNECTED = "disconnected, retrying"
    """An attached console lost the app (or Redis) and keeps trying to reconnect."""


@dataclass(slots=True)
class TaskView:
    """What the console knows about one task: its facts, and its runs as the core's
    `RunRecord`s."""

    task_id: UUID
    name: str
    group: str
    trigger: str
    timeout: float | None
    next_fire_time: datetime | None = None
    in_flight: dict[UUID, datetime] = field(default_factory=dict)
    """When each of its runs going now started, by run id."""
    running_unseen: int = 0
    """Runs going now that a snapshot counted but whose start the console has not seen
    (an attached console's first view); each run that ends unseen takes one off."""
    paused: bool = False
    exhausted: bool = False
    last_run: RunRecord | None = None
    """Its latest finished run: what the Last run, Took and Outcome columns describe (a
    run going, a skip or a pause does not replace it)."""
    last_failure: RunRecord | None = None
    """Its latest failed run."""
    last_skipped: datetime | None = None
    run_count: int = 0
    failure_count: int = 0
    skip_count: int = 0
    recent: deque[RunRecord] = field(default_factory=lambda: deque(maxlen=RECENT_RUNS))
    recent_changes: int = 0
    """Bumped whenever `recent` changes (a run finished, or history was loaded)."""
    overrunning: int = 0
    """Worker threads of its runs that ended (timed out, cancelled) and still run."""
    batch: int = 0
    """The last batch of runs (`ConsoleModel.apply_runs`) that touched it."""

    def __post_init__(self) -> None:
        # Names come from user code and are shown in many places: made inert once, here,
        # whichever source (this process, a socket, Redis) the view was built from.
        self.name = inert(self.name)
        self.group = inert(self.group)

    @property
    def running(self) -> int:
        """How many of its runs are going now."""
        return len(self.in_flight) + self.running_unseen

    @property
    def running_since(self) -> datetime | None:
        """When the oldest of its runs going now started (None: none is going)."""
        return min(self.in_flight.values()) if self.in_flight else None

    @property
    def state(self) -> str:
        """``running``, ``overrun``, ``paused``, ``finished`` or ``idle`` (the core's rule)."""
        return task_state(
            running=self.running,
            paused=self.paused,
            finished=self.exhausted,
            overrunning=self.overrunning,
        ).value

    @property
    def state_text(self) -> str:
        """The state in words: an overrun says what happened to its run and its thread."""
        if self.overrunning and not self.running:
            ended = outcome_word(self.last_outcome) or "ended"
            threads = "thread" if self.overrunning == 1 else f"{self.overrunning} threads"
            return f"{ended}, {threads} still running"
        return self.state

    @property
    def last_outcome(self) -> RunOutcome | None:
        return None if self.last_run is None else self.last_run.outcome

    @property
    def last_duration(self) -> float | None:
        return None if self.last_run is None else self.last_run.duration

    @property
    def failing(self) -> bool:
        """Whether the last finished run failed (the core's rule)."""
        return self.last_run is not None and self.last_run.failed

    @property
    def last_error(self) -> str | None:
        failure = self.last_failure
        if failure is None:
            return None
        return failure.error or (failure.outcome.value if failure.outcome else None)

    @property
    def last_traceback(self) -> str | None:
        return None if self.last_failure is None else self.last_failure.traceback

    @property
    def last_finished(self) -> datetime | None:
        """When the latest finished run ended."""
        return None if self.last_run is None else self.last_run.ended_at

    @classmethod
    def of(cls, task: Task) -> TaskView:
        """A fresh view of a registered task."""
        return cls(
            task_id=task.id,
            name=task.name,
            group=task.group or "",
            trigger=task.trigger.describe(),
            timeout=task.timeout,
        )


@dataclass(frozen=True, slots=True)
class ReplicaView:
    """One process of a fleet, as its heartbeats in Redis tell."""

    name: str
    alive: bool
    started_at: datetime | None = None
    seen_at: datetime | None = None
    """Its last heartbeat."""


@dataclass(frozen=True)
class Snapshot:
    """Everything a remote source knew when it (re)connected: the app's tasks with their
    state, the scheduler's phase, when (`at`, the app's clock), and each next firing."""

    app_name: str
    phase: SchedulerPhase
    at: datetime
    tasks: Sequence[TaskView]
    next_fire_times: Mapping[UUID, datetime | None]


class ConsoleModel:
    """Every task's view plus the scheduler's phase: `apply` folds events in, `apply_runs`
    the scheduler's runs, `plan` the next firings, `seed` earlier sessions' runs,
    `restart` a remote app's state after (re)connecting."""

    def __init__(self, tasks: Iterable[Task | TaskView]) -> None:
        self.tasks: dict[UUID, TaskView] = {}
        self.phase = SchedulerPhase.STARTING
        self.history_failure: str | None = None
        """Why the store cannot write the history right now (None: it can)."""
        self.version = 0
        """Bumped whenever anything changes, so views can skip work when nothing did."""
        self.generation = 0
        """Bumped when the set of tasks changes (`restart`, a task added or removed while
        serving): views filter and sort again."""
        self.replicas: list[ReplicaView] = []
        """The fleet's processes (empty unless the source is a fleet)."""
        self._counts: tuple[int, tuple[int, int, int, int]] = (-1, (0, 0, 0, 0))
        self._batch = 0
        self._plan_changes = 0
        """How much of `version` came from `plan` (next firings, which no count depends on)."""
        self.recent_limit = RECENT_RUNS
        """Finished runs each view keeps (see RECENT_TOTAL), but the widened ones."""
        self._widened: set[UUID] = set()
        self.restart(tasks, SchedulerPhase.STARTING)

    def restart(self, tasks: Iterable[Task | TaskView], phase: SchedulerPhase) -> None:
        """Start over from these tasks (views are taken as they are) in `phase`: what an
        attached console does each time it (re)connects."""
        views = (task if isinstance(task, TaskView) else TaskView.of(task) for task in tasks)
        self.tasks = {view.task_id: view for view in views}
        self.phase = phase
        self.version += 1
        self.generation += 1
        self._fit_recent(force=True)

    # ----- how many runs the views keep ------------------------------------------------
    def widen(self, task_id: UUID) -> None:
        """Keep RECENT_RUNS finished runs for this task (its details are open)."""
        self._widened.add(task_id)
        view = self.tasks.get(task_id)
        if view is not None:
            self._fit(view)

    def narrow(self, task_id: UUID) -> None:
        """Its details closed: back to the share every view keeps."""
        self._widened.discard(task_id)
        view = self.tasks.get(task_id)
        if view is not None:
            self._fit(view)

    def _fit_recent(self, force: bool = False) -> None:
        """Work out the runs each view keeps from the number of tasks; refit the views
        when that changed (tasks added or removed) or `force`."""
        limit = max(MIN_RECENT, min(RECENT_RUNS, RECENT_TOTAL // max(1, len(self.tasks))))
        if limit == self.recent_limit and not force:
            return
        self.recent_limit = limit
        for view in self.tasks.values():
            self._fit(view)

    def _fit(self, view: TaskView) -> None:
        keep = RECENT_RUNS if view.task_id in self._widened else self.recent_limit
        if view.recent.maxlen != keep:
            dropped = len(view.recent) > keep
            view.recent = deque(view.recent, maxlen=keep)  # keeps the newest
            view.recent_changes += dropped

    def apply_runs(self, runs: Iterable[RunRecord]) -> tuple[list[RunRecord], list[UUID]]:
        """Fold in runs the scheduler delivered: each run comes as a started record (no
        outcome), then as a finished one. Returns the failed runs (for notifications)
        and the tasks touched."""
        failures: list[RunRecord] = []
        touched: list[UUID] = []
        # Each view notes the batch that touched it last: a herd of 5,000 runs is 10,000
        # records, and a dict of the ids touched would hash a UUID (a Python-level
        # method) for each (a herd of 5,000 tasks folded in: 13.7 -> 12.6 ms, medians of 3).
        self._batch += 1
        batch = self._batch
        tasks = self.tasks
        for run in runs:
            view = tasks.get(run.task_id)
            if view is None:
                continue
            if view.batch != batch:
                view.batch = batch
                touched.append(view.task_id)
            if run.outcome is None:
                view.in_flight[run.run_id] = run.started_at
                continue
            if view.in_flight.pop(run.run_id, None) is None and view.running_unseen:
                view.running_unseen -= 1
            view.last_run = run
            view.run_count += 1
            view.recent.append(run)
            view.recent_changes += 1
            if run.failed:
                view.failure_count += 1
                view.last_failure = run
                failures.append(run)
        if touched:
            self.version += 1
        return failures, touched

    def plan(self, next_fire_times: Mapping[UUID, datetime | None]) -> None:
        """Set the next firing of the tasks given (from `AioClock.next_fire_times`)."""
        tasks = self.tasks
        changed = 0
        for task_id, when in next_fire_times.items():
            view = tasks.get(task_id)
            if view is None:
                continue
            if view.next_fire_time != when or view.exhausted is not (when is None):
                view.next_fire_time = when
                view.exhausted = when is None
                changed += 1
        self.version += changed
        self._plan_changes += changed

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
            elif isinstance(event, (ThreadOverran, ThreadReturned)):
                view = self.tasks.get(event.task_id)
                if view is not None:
                    step = 1 if isinstance(event, ThreadOverran) else -1
                    view.overrunning = max(0, view.overrunning + step)
            elif isinstance(event, (TaskPaused, TaskResumed)):
                view = self.tasks.get(event.task_id)
                if view is not None:
                    view.paused = isinstance(event, TaskPaused)
            elif isinstance(event, TaskAdded):  # registered while serving: a new row
                self.generation += 1
                self.tasks.setdefault(
                    event.task_id,
                    TaskView(
                        task_id=event.task_id,
                        name=event.task_name,
                        group=event.group or "",
                        trigger=event.trigger,
                        timeout=event.timeout,
                    ),
                )
                self._fit_recent()
                self._fit(self.tasks[event.task_id])
            elif isinstance(event, TaskRemoved):
                self.generation += 1
                self.tasks.pop(event.task_id, None)
                self._fit_recent()
            elif isinstance(event, TaskRescheduled):
                view = self.tasks.get(event.task_id)
                if view is not None:
                    view.trigger = event.trigger
                    view.exhausted = False
            elif isinstance(event, SchedulerStarted):
                self.phase = SchedulerPhase.RUNNING
            elif isinstance(event, SchedulerStopping):
                self.phase = SchedulerPhase.STOPPING
            elif isinstance(event, SchedulerStopped):
                self.phase = SchedulerPhase.STOPPED
                for view in self.tasks.values():
                    view.next_fire_time = None
                    view.in_flight.clear()
                    view.running_unseen = 0

    def seed(
        self,
        runs: Mapping[UUID, Sequence[RunRecord]],
        paused: Iterable[UUID],
        before: datetime,
    ) -> None:
        """Fold in what the store knew: the finished runs of each task that started
        `before` this session did (newest first; this session's own runs come from the
        scheduler), and the tasks restored paused. Seeding again (a larger read for the
        detail screen) replaces the earlier seed. The counters count this session only."""
        self.version += 1
        for task_id in paused:
            if task_id in self.tasks:
                self.tasks[task_id].paused = True
        for task_id, stored in runs.items():
            view = self.tasks.get(task_id)
            if view is None:
                continue
            earlier = [r for r in stored if r.outcome is not None and r.started_at < before]
            if not earlier:
                continue
            session = [r for r in view.recent if r.started_at >= before]
            view.recent = deque([*reversed(earlier), *session], maxlen=view.recent.maxlen)
            view.recent_changes += 1
            if view.last_run is None:
                view.last_run = earlier[0]
            failed = next((r for r in earlier if r.failed), None)
            if failed is not None and view.last_failure is None:
                view.last_failure = failed

    def note_history(self, failure: BaseException | None) -> bool:
        """Take the store's write failure (None: writing works); returns whether it changed."""
        text = None if failure is None else str(failure)
        if text == self.history_failure:
            return False
        self.history_failure = text
        self.version += 1
        return True

    def counts(self) -> tuple[int, int, int, int]:
        """How many tasks are running, paused and failing, and how many worker threads of
        ended runs still run (counted again only when something other than a next firing
        changed: the header asks on every redraw, and a herd of 5,000 tasks re-plans them
        all every second)."""
        key = self.version - self._plan_changes
        if self._counts[0] != key:
            running = paused = failing = threads = 0
            for view in self.tasks.values():
                running += view.running > 0
                paused += view.paused
                failing += view.failing
                threads += view.overrunning
            self._counts = (key, (running, paused, failing, threads))
        return self._counts[1]
