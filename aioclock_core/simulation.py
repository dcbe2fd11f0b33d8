"""Simulation: every firing of an app's tasks in a window, from the scheduler's own timelines.

Nothing runs: no task body, no dependency, no lifespan. The instants come from the very
`Timeline` objects (and triggers' `next_fire_time`) the scheduler steps through, so a
simulation agrees with what serving the app on a FakeClock would do, by construction::

    simulation = simulate(app, start, start + timedelta(days=7))
    for task in simulation.tasks:
        print(task.name, len(task.firings), task.firings[:1])
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from aioclock_core import _cron
from aioclock_core._timeline import Timeline, has_pure_timeline
from aioclock_core.task import Task
from aioclock_core.triggers import At, BaseTrigger, Cron, Every, Once, OrTrigger, Triggers

if TYPE_CHECKING:
    from aioclock_core.app import AioClock

__all__ = [
    "DstTransition",
    "Herd",
    "SimulatedTask",
    "Simulation",
    "SimulationTooLarge",
    "Simulator",
    "dst_transitions",
    "simulate",
    "unsimulated_reason",
    "zone_of",
]

UTC = timezone.utc
_STRETCH = timedelta(days=1)
"""A simulation steps its timelines this far at a time (checking its size in between)."""
_TRANSITION_STEP = timedelta(hours=1)
"""Steps of the search for offset changes (two changes within one step would be missed)."""


@dataclass(frozen=True)
class SimulatedTask:
    """One task's firings in a simulated window.

    Attributes:
        task: The registered task (name, id, trigger, group, max_concurrent_runs...).
        firings: Its firing instants in the window (aware UTC), in order.
        zone: IANA name of the wall clock its trigger follows (``UTC`` for intervals).
        not_simulated: Why its firings cannot be computed ahead (None when they were).
    """

    task: Task
    firings: tuple[datetime, ...]
    zone: str = "UTC"
    not_simulated: str | None = None

    @property
    def name(self) -> str:
        return self.task.name

    def shortest_gap(self) -> float | None:
        """Seconds between its two closest consecutive firings (None: fewer than two)."""
        firings = self.firings
        if len(firings) < 2:
            return None
        return min((b - a).total_seconds() for a, b in pairwise(firings))


@dataclass(frozen=True)
class Herd:
    """An instant at which many firings fall due together.

    Attributes:
        at: The instant (aware UTC).
        size: How many firings fall on it.
    """

    at: datetime
    size: int


@dataclass(frozen=True)
class DstTransition:
    """A change of a zone's UTC offset (a daylight-saving change, or a change of rules).

    Attributes:
        zone: The IANA zone name.
        at: The first instant (aware UTC) of the new offset.
        before: The offset until then.
        after: The offset from then on.
    """

    zone: str
    at: datetime
    before: timedelta
    after: timedelta

    @property
    def shift(self) -> timedelta:
        """How far wall clocks jump: positive springs forward, negative falls back."""
        return self.after - self.before


@dataclass(frozen=True)
class Simulation:
    """Every firing of some tasks in the window [start, end).

    Attributes:
        start: The window's first instant (aware UTC).
        end: The instant the window ends before.
        tasks: One entry per task, in registration order.
    """

    start: datetime
    end: datetime
    tasks: list[SimulatedTask]

    @property
    def firing_count(self) -> int:
        return sum(len(task.firings) for task in self.tasks)

    def herds(self, more_than: int) -> list[Herd]:
        """Instants at which more than `more_than` firings fall due, in time order."""
        sharing = Counter(id(task.firings) for task in self.tasks)
        counts: dict[datetime, int] = {}
        for firings in {id(task.firings): task.firings for task in self.tasks}.values():
            weight = sharing[id(firings)]
            for instant in firings:
                counts[instant] = counts.get(instant, 0) + weight
        return [Herd(at, counts[at]) for at in sorted(counts) if counts[at] > more_than]

    def tasks_at(self, instant: datetime) -> list[SimulatedTask]:
        """The tasks that fire at `instant`."""
        found = []
        for task in self.tasks:
            index = bisect_left(task.firings, instant)
            if index < len(task.firings) and task.firings[index] == instant:
                found.append(task)
        return found

    def in_order(self) -> Iterator[tuple[datetime, SimulatedTask]]:
        """Every firing as (instant, task), in time order (registration order at ties)."""
        streams = [_stream(index, task) for index, task in enumerate(self.tasks)]
        for instant, _, task in heapq.merge(*streams):
            yield instant, task


def _stream(index: int, task: SimulatedTask) -> Iterator[tuple[datetime, int, SimulatedTask]]:
    return ((instant, index, task) for instant in task.firings)


class Simulator:
    """Timelines of tasks standing at one instant; `run(end)` steps copies of them.

    Build one with `Simulator.fresh` (as if the app started serving at an instant) or,
    for a serving app, `AioClock.simulator()` (its live timelines as they stand).

    Args:
        start: The instant the timelines stand at.
        plans: Each task with its timeline (None: it has no firing left, or cannot be
            simulated) and why it cannot be simulated (None if it can).
    """

    def __init__(
        self, start: datetime, plans: Iterable[tuple[Task, Timeline | None, str | None]]
    ) -> None:
        _check_aware(start, "start")
        self.start = start.astimezone(UTC)
        self.plans = list(plans)

    @classmethod
    def fresh(
        cls, tasks: Iterable[Task], start: datetime, origin: datetime | None = None
    ) -> Simulator:
        """The timelines `serve()` would start at `start` (Every grids on `origin` if
        given, as `AioClock(interval_origin=...)`)."""
        _check_aware(start, "start")
        start = start.astimezone(UTC)
        # Built-in triggers with equal fields fire at equal instants from the same start:
        # one timeline serves them all (apps repeat Every(minutes=5) or '0 * * * *' a
        # lot; it makes the benchmark's week of 1,000 tasks several times cheaper).
        shared: dict[str, Timeline] = {}
        plans: list[tuple[Task, Timeline | None, str | None]] = []
        for task in tasks:
            reason = unsimulated_reason(task.trigger)
            if reason is not None:
                plans.append((task, None, reason))
                continue
            key = _equality_key(task.trigger)
            if key is not None and (task.start_at or task.end_at):  # windows differ too
                key = f"{key}|{task.start_at}|{task.end_at}"
            timeline = shared.get(key) if key is not None else None
            if timeline is None:
                timeline = Timeline.of_task(task, start, origin=origin)
                if key is not None:
                    shared[key] = timeline
            plans.append((task, timeline, None))
        return cls(start, plans)

    def run(self, end: datetime, max_firings: int | None = None) -> Simulation:
        """Every firing in [start, end). The simulator stays where it stands, so it can be
        run again to another end.

        Raises:
            SimulationTooLarge: More than `max_firings` firings would be computed.
            ValueError: `end` is naive or not after `start`.
        """
        _check_aware(end, "end")
        end = end.astimezone(UTC)
        if end <= self.start:
            raise ValueError(f"The window must end after it starts: {self.start} to {end}")
        ahead = {
            id(timeline): timeline.fork() for _, timeline, _ in self.plans if timeline is not None
        }
        taken: dict[int, list[datetime]] = {key: [] for key in ahead}
        edge, total = self.start, 0
        while edge < end:  # a day at a time, to stop early when the window is too large
            edge = min(edge + _STRETCH, end)
            for key, timeline in ahead.items():
                before = len(taken[key])
                taken[key] += timeline.take_until(edge)
                total += len(taken[key]) - before
            if max_firings is not None and total > max_firings:
                raise SimulationTooLarge(max_firings, edge)
        stepped = {key: tuple(firings) for key, firings in taken.items()}
        simulated = [
            SimulatedTask(
                task,
                stepped[id(timeline)] if timeline is not None else (),
                zone_of(task.trigger),
                why,
            )
            for task, timeline, why in self.plans
        ]
        return Simulation(self.start, end, simulated)


class SimulationTooLarge(ValueError):
    """A simulation would hold more firings than its caller allowed.

    Attributes:
        limit: The allowed number of firings.
        reached_at: The instant by which the simulation had passed it.
    """

    def __init__(self, limit: int, reached_at: datetime) -> None:
        super().__init__(
            f"The simulation passes {limit:,} firings by "
            f"{reached_at.isoformat(sep=' ', timespec='seconds')}"
        )
        self.limit = limit
        self.reached_at = reached_at


_SHAREABLE = (Every, At, Cron, Once)
"""Triggers whose firings depend on their fields alone (a subclass may hide state)."""


def _equality_key(trigger: BaseTrigger[Any]) -> str | None:
    if type(trigger) not in _SHAREABLE:
        return None
    return type(trigger).__name__ + trigger.model_dump_json(exclude={"expected_trigger_time"})


def unsimulated_reason(trigger: BaseTrigger[Any]) -> str | None:
    """Why the trigger's firings cannot be computed ahead (None: they can)."""
    inner = trigger.triggers if isinstance(trigger, OrTrigger) else [trigger]
    for part in inner:
        if part.type_ == Triggers.ON_SHUT_DOWN:
            return "runs when the app shuts down"
        if part.restarts_after_run:
            return "fires again as soon as each run ends, so when depends on how long runs take"
        if not has_pure_timeline(part):
            return (
                f"its trigger {type(part).__name__} waits on its own (aioclock's "
                "trigger_next protocol); implement next_fire_time to simulate it"
            )
    return None


def zone_of(trigger: BaseTrigger[Any]) -> str:
    """The zone whose wall clock the trigger follows: the first `tz` found, else UTC."""
    inner = trigger.triggers if isinstance(trigger, OrTrigger) else [trigger]
    for part in inner:
        tz = getattr(part, "tz", None)
        if isinstance(tz, str):
            return tz
    return "UTC"


def simulate(
    app: AioClock,
    start: datetime,
    end: datetime,
    tasks: Iterable[Task] | None = None,
    max_firings: int | None = None,
) -> Simulation:
    """Every firing of the app's tasks (or of `tasks`) in [start, end), as if the app
    started serving at `start`.

    No task body, dependency or lifespan runs. Timelines start afresh at `start`: a
    persistent store's last firings are not resumed.

    Raises:
        SimulationTooLarge: More than `max_firings` firings would be computed.
        ValueError: `start` or `end` is naive, or `end` is not after `start`.
    """
    chosen = app.tasks if tasks is None else list(tasks)
    return Simulator.fresh(chosen, start, app.interval_origin).run(end, max_firings)


def dst_transitions(zone: str, start: datetime, end: datetime) -> list[DstTransition]:
    """The changes of `zone`'s UTC offset in [start, end), in order."""
    tz = _cron.zone(zone)
    found: list[DstTransition] = []
    instant = start.astimezone(UTC)
    offset = instant.astimezone(tz).utcoffset()
    while instant < end:
        following = min(instant + _TRANSITION_STEP, end)
        offset_after = following.astimezone(tz).utcoffset()
        if offset_after != offset:
            assert offset is not None and offset_after is not None
            at = _cron.transition_instant(_naive(instant), _naive(following), tz, offset_after)
            if at < end:
                found.append(DstTransition(zone, at, offset, offset_after))
        instant, offset = following, offset_after
    return found


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _check_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"The simulation's {name} must be an aware datetime, got {instant!r}: "
            "add tzinfo=timezone.utc"
        )
