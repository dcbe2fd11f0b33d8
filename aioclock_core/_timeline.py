"""Timeline: the firing instants of one task's trigger, counted against max_loop_count."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aioclock_core.task import Task
    from aioclock_core.triggers import BaseTrigger, Every

# The trigger classes are imported inside the functions that need them: they are pydantic
# models, and a timeline only exists once a trigger was built (so pydantic is loaded by
# then and the import is a lookup), while a module-level import would make every
# `import aioclock_core` load pydantic.

_FAST_FORWARD_AFTER = 10_000
"""Missed firings counted one by one before jumping straight past `now`."""
_TICK = timedelta(microseconds=1)


def has_pure_timeline(trigger: BaseTrigger[Any]) -> bool:
    """Whether the trigger answers `next_fire_time` (else: an aioclock-style legacy trigger)."""
    from aioclock_core._trigger_base import BaseTrigger

    return type(trigger).next_fire_time is not BaseTrigger.next_fire_time


class _Line:
    """One trigger's instants (an OrTrigger has one line per inner trigger)."""

    __slots__ = ("anchor", "count", "limit", "pending", "trigger")

    def __init__(
        self,
        trigger: BaseTrigger[Any],
        anchor: datetime,
        resume_from: datetime | None = None,
        start_at: datetime | None = None,
    ) -> None:
        self.trigger = trigger
        self.limit: int | None = getattr(trigger, "max_loop_count", None)
        self.count = 0
        if resume_from is None:
            self.anchor = anchor
            self.pending: datetime | None = trigger.next_fire_time(None, anchor)
        else:  # continue the timeline of a previous process from its last firing
            self.anchor = resume_from
            self.pending = trigger.next_fire_time(resume_from, resume_from)
        if start_at is not None and self.pending is not None and self.pending < start_at:
            # No firing before the window opens: the first one at or after it.
            self.pending = trigger.next_fire_time(start_at - _TICK, self.anchor)

    def consume(self) -> None:
        self.count += 1
        if self.limit is not None and self.count >= self.limit:
            self.pending = None
        elif self.pending is not None:
            self.pending = self.trigger.next_fire_time(self.pending, self.anchor)

    def jump_past(self, now: datetime) -> None:
        if self.pending is not None and self.pending <= now:
            self.pending = self.trigger.next_fire_time(now, self.anchor)

    def following(self, instant: datetime) -> datetime | None:
        """The firing after `instant` (a firing of this line), not counting the limit."""
        return self.trigger.next_fire_time(instant, self.anchor)

    def take_until(self, end: datetime, into: list[datetime]) -> None:
        """Consume every firing before `end`, appending each to `into`."""
        while self.pending is not None and self.pending < end:
            into.append(self.pending)
            self.consume()

    @property
    def can_restart(self) -> bool:
        return self.trigger.restarts_after_run and (self.limit is None or self.count < self.limit)

    def restart(self, anchor: datetime) -> None:
        if self.pending is None and self.can_restart:
            self.anchor = anchor
            self.pending = self.trigger.next_fire_time(None, anchor)


class _EveryLine(_Line):
    """An Every trigger's grid anchor + k·period, stepped by index (no search per firing)."""

    __slots__ = ("index", "period", "start_index")

    def __init__(
        self,
        trigger: Every,
        anchor: datetime,
        resume_from: datetime | None = None,
        origin: datetime | None = None,
    ) -> None:
        self.trigger = trigger
        self.limit = trigger.max_loop_count
        self.count = 0
        self.period = period = trigger.to_seconds
        self.start_index = 0 if trigger.first_run_strategy == "immediate" else 1
        if period == 0:  # max_loop_count firings at one instant: no grid to align or resume
            self.anchor = anchor
            self.index = self.start_index
            self.pending = None if resume_from is not None else anchor
            return
        if origin is not None:
            # A grid of its own origin (the task's start_at, or the replicas' shared
            # origin): origin + k·period, whatever this process's start; never before it.
            self.anchor = origin
            since = ((resume_from or anchor) - origin).total_seconds()
            if resume_from is not None:
                self.index = max(0, round(since / period) + 1)
            else:
                self.index = max(0, math.floor(since / period) + self.start_index)
        elif resume_from is not None:
            self.anchor = resume_from
            self.index = 1
        else:
            self.anchor = anchor
            self.index = self.start_index
        self.pending = self.anchor + timedelta(seconds=self.index * self.period)

    def consume(self) -> None:
        self.count += 1
        if self.limit is not None and self.count >= self.limit:
            self.pending = None
        else:
            self.index += 1
            self.pending = self.anchor + timedelta(seconds=self.index * self.period)

    def take_until(self, end: datetime, into: list[datetime]) -> None:
        # consume() in a loop of locals: a simulated week of 1,000 tasks steps 300,000
        # grid points, and the attribute traffic of one call each was a third of it.
        pending, index, count = self.pending, self.index, self.count
        anchor, period, limit = self.anchor, self.period, self.limit
        while pending is not None and pending < end:
            into.append(pending)
            count += 1
            if limit is not None and count >= limit:
                pending = None
            else:
                index += 1
                pending = anchor + timedelta(seconds=index * period)
        self.pending, self.index, self.count = pending, index, count

    def jump_past(self, now: datetime) -> None:
        if self.pending is not None and self.pending <= now:
            following = self.trigger.next_fire_time(now, self.anchor)
            if following is not None:  # None: a zero period, all of whose firings are past
                self.index = round((following - self.anchor).total_seconds() / self.period)
            self.pending = following

    def following(self, instant: datetime) -> datetime | None:
        # A zero period fires again at the same instant (until max_loop_count stops it).
        return instant if self.period == 0 else super().following(instant)

    def restart(self, anchor: datetime) -> None:
        return None  # an Every never waits for its run to end


class Timeline:
    """The pending firing of a task and how to move past it.

    `pending` is the next firing instant (None: none planned). `consume()` moves past it;
    `restart(now)` re-anchors triggers that fire again when a run ends (Forever).
    """

    __slots__ = ("_count", "_end_at", "_limit", "_lines", "pending")

    def __init__(
        self,
        trigger: BaseTrigger[Any],
        anchor: datetime,
        resume_from: datetime | None = None,
        origin: datetime | None = None,
        *,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
    ) -> None:
        """`start_at`/`end_at`: the window outside which nothing fires (an Every's grid
        then starts at `start_at`)."""
        from aioclock_core.triggers import Every, OrTrigger

        if isinstance(trigger, OrTrigger):
            self._lines = [
                _EveryLine(inner, anchor, None, start_at)
                if isinstance(inner, Every)
                else _Line(inner, anchor, None, start_at)
                for inner in trigger.triggers
            ]
            self._limit: int | None = trigger.max_loop_count
        else:
            if isinstance(trigger, Every):
                grid = start_at if start_at is not None else origin
                self._lines = [_EveryLine(trigger, anchor, resume_from, grid)]
            else:
                self._lines = [_Line(trigger, anchor, resume_from, start_at)]
            self._limit = None
        self._end_at = end_at
        self._count = 0
        self.pending: datetime | None = None
        self._refresh()

    @classmethod
    def of_task(
        cls,
        task: Task,
        anchor: datetime,
        resume_from: datetime | None = None,
        origin: datetime | None = None,
    ) -> Timeline:
        """The timeline of a registered task (its trigger, in its window)."""
        return cls(
            task.trigger,
            anchor,
            resume_from,
            origin,
            start_at=task.start_at,
            end_at=task.end_at,
        )

    def _refresh(self) -> None:
        if self._limit is not None and self._count >= self._limit:
            self.pending = None
            return
        if len(self._lines) == 1:
            pending = self._lines[0].pending
        else:
            pending = None
            for line in self._lines:
                if line.pending is not None and (pending is None or line.pending < pending):
                    pending = line.pending
        if pending is not None and self._end_at is not None and pending > self._end_at:
            pending = None  # the window has closed
        self.pending = pending

    def consume(self) -> None:
        """Move past the pending firing (one inner trigger's, for an OrTrigger)."""
        if len(self._lines) == 1:
            line = self._lines[0]
            line.consume()
            self._count += 1
            self.pending = line.pending
            if (self._limit is not None and self._count >= self._limit) or (
                self._end_at is not None
                and self.pending is not None
                and self.pending > self._end_at
            ):
                self.pending = None
            return
        for line in self._lines:
            if line.pending is not None and line.pending == self.pending:
                line.consume()
                break
        self._count += 1
        self._refresh()

    def take_until(self, end: datetime) -> list[datetime]:
        """Consume every firing before `end`; returns them in order (a simulation's view
        of the timeline: the same instants `consume()` would step through one by one)."""
        taken: list[datetime] = []
        if len(self._lines) == 1 and self._limit is None:
            line = self._lines[0]
            if self._end_at is not None and self._end_at < end:
                end = self._end_at + _TICK
            line.take_until(end, taken)
            self._count += len(taken)
            self._refresh()
            return taken
        while self.pending is not None and self.pending < end:
            taken.append(self.pending)
            self.consume()
        return taken

    def consume_through(self, now: datetime) -> tuple[datetime, int, datetime | None]:
        """Consume the pending firing and every later one up to `now`.

        Returns the latest consumed instant, how many earlier ones it stands for
        (coalesced), and the latest of those earlier ones (None if there are none).
        Firings at the same instant as the latest are left pending.
        """
        latest = self.pending
        assert latest is not None
        self.consume()
        coalesced = 0
        previous: datetime | None = None
        while self.pending is not None and latest < self.pending <= now:
            if coalesced >= _FAST_FORWARD_AFTER:
                for line in self._lines:
                    line.jump_past(now)
                self._refresh()
                break
            previous = latest
            latest = self.pending
            self.consume()
            coalesced += 1
        return latest, coalesced, previous

    @property
    def can_restart(self) -> bool:
        """Whether a trigger of this timeline fires again once the current run ends."""
        if self._limit is not None and self._count >= self._limit:
            return False
        return any(line.can_restart for line in self._lines)

    def restart(self, now: datetime) -> None:
        """Re-anchor the triggers that fire again after a run ends, at `now`."""
        for line in self._lines:
            line.restart(now)
        self._refresh()

    def fork(self) -> Timeline:
        """An independent copy standing at the same firing (the triggers are shared: they
        are pure), to look ahead without moving this timeline."""
        twin = copy.copy(self)
        twin._lines = [copy.copy(line) for line in self._lines]
        return twin

    def upcoming(self, count: int) -> list[datetime]:
        """The next `count` firing instants from here, without consuming them."""
        ahead = self.fork()
        result: list[datetime] = []
        while len(result) < count and ahead.pending is not None:
            result.append(ahead.pending)
            ahead.consume()
        return result
