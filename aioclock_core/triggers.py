"""Triggers: pure answers to "when does this task fire next", compatible with aioclock 0.3.

A trigger never waits. The scheduler asks ``next_fire_time(after, anchor)`` and does the
waiting itself. The legacy aioclock protocol (``should_trigger``, ``trigger_next``,
``get_waiting_time_till_next_trigger``) still works for user-written triggers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Generic, Literal, Union

from pydantic import (
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from typing_extensions import deprecated

from aioclock_core import _cron
from aioclock_core._clock import SYSTEM_CLOCK

__all__ = [
    "Triggers", "TriggerTypeT", "BaseTrigger", "LoopController", "Forever", "Once", "OnStartUp",
    "OnShutDown", "Every", "At", "Cron", "OrTrigger", "AndTrigger", "TriggerT", "WEEKDAY_MAPPER",
    "WEEK_TO_SECOND"
]  # fmt: skip

from aioclock_core._trigger_base import (
    BaseTrigger,
    Forever,
    LoopController,
    TriggerTypeT,
    _reject_bool,
)
from aioclock_core._trigger_kinds import (  # noqa: F401 - the public home of these names
    _DAY_NAMES,
    LONGEST_SECONDS,
    LONGEST_TEXT,
    UTC,
    WEEK_TO_SECOND,
    WEEKDAY_MAPPER,
    Triggers,
    WeekdayT,
    _as_utc,
)

# The triggers below subclass their generic base bare, never parametrized with their
# Literal: see BaseTrigger.model_config for why (import time).


class _SingleShot(LoopController[TriggerTypeT], Generic[TriggerTypeT]):
    max_loop_count: Literal[1] = 1

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        return _as_utc(anchor) if after is None else None

    async def trigger_next(self) -> None:
        self._increment_loop_counter()

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        return 0 if self._current_loop_count == 0 else None


class Once(_SingleShot):
    """Run once: as soon as the app starts, or at the instant `at`.

    Attributes:
        at: When to fire (None: at start). An aware datetime, or a naive one read as a
            wall time in `tz`. An `at` already past when the app starts fires at once if
            the task's `misfire_grace_time` allows (default: no limit), else it is
            reported missed; once it has fired (with a persistent store) it never fires
            again.
        tz: The IANA zone of a naive `at` (required then).
    """

    type_: Literal[Triggers.ONCE] = Triggers.ONCE
    at: Union[datetime, None] = None
    tz: Union[str, None] = None

    @model_validator(mode="after")
    def _check_at(self) -> Once:
        if self.tz is not None:
            try:
                _cron.zone(self.tz)
            except Exception:
                raise ValueError(
                    f"Unknown time zone {self.tz!r}: use an IANA name such as 'Europe/Berlin'"
                ) from None
        if self.at is not None and self.at.tzinfo is None:
            if self.tz is None:
                raise ValueError(
                    f"Once(at={self.at!r}) is a naive datetime: give its zone with "
                    "tz='Europe/Berlin' (an IANA name), or pass an aware datetime"
                )
            # fold=0: an ambiguous wall time (a DST fall-back) means its first occurrence.
            self.__dict__["at"] = self.at.replace(tzinfo=_cron.zone(self.tz))
        return self

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        if self.at is None:
            return super().next_fire_time(after, anchor)
        at = _as_utc(self.at)
        return at if after is None or after < at else None

    def describe(self) -> str:
        if self.at is None:
            return "once"
        zone = _cron.zone(self.tz) if self.tz else self.at.tzinfo
        return f"once at {self.at.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}".rstrip()


@deprecated("Use `lifespan` instead of OnStartUp; it will be removed in version 1.0.0")
class OnStartUp(_SingleShot):
    """Deprecated: run once when the app starts (use the app's lifespan instead)."""

    type_: Literal[Triggers.ON_START_UP] = Triggers.ON_START_UP

    def describe(self) -> str:
        return "on start-up"


@deprecated("Use `lifespan` instead of OnShutDown; it will be removed in version 1.0.0")
class OnShutDown(_SingleShot):
    """Deprecated: run once when the app shuts down (use the app's lifespan instead)."""

    type_: Literal[Triggers.ON_SHUT_DOWN] = Triggers.ON_SHUT_DOWN

    def describe(self) -> str:
        return "on shutdown"


_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_NumberT = Union[int, float]


class Every(LoopController):
    """Fire at a fixed rate: anchor + k × period, whatever the runs take (no drift).

    Attributes:
        first_run_strategy: ``wait`` (default) fires first one period after the start,
            ``immediate`` fires at the start.
        seconds: Period units; they add up. Each is a finite number >= 0.
        minutes: See ``seconds``.
        hours: See ``seconds``.
        days: See ``seconds``.
        weeks: See ``seconds``.
    """

    type_: Literal[Triggers.EVERY] = Triggers.EVERY
    first_run_strategy: Literal["immediate", "wait"] = "wait"
    seconds: Union[_NumberT, None] = None
    minutes: Union[_NumberT, None] = None
    hours: Union[_NumberT, None] = None
    days: Union[_NumberT, None] = None
    weeks: Union[_NumberT, None] = None
    max_loop_count: Union[PositiveInt, None] = None

    _no_bool = field_validator(*_UNITS, mode="before")(_reject_bool)

    @field_validator(*_UNITS)
    @classmethod
    def _check_unit(cls, value: _NumberT | None, info: ValidationInfo) -> _NumberT | None:
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{info.field_name} must be a finite number >= 0, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_period(self) -> Every:
        if all(getattr(self, unit) is None for unit in _UNITS):
            raise ValueError("At least one time unit must be provided.")
        period = self.to_seconds
        if period == 0 and self.max_loop_count is not None:
            return self  # aioclock's "fire max_loop_count times at once"
        if period < 1e-6:
            given = ", ".join(
                f"{unit}={getattr(self, unit)!r}"
                for unit in _UNITS
                if getattr(self, unit) is not None
            )
            problem = (
                "and no max_loop_count, so it would fire without end"
                if period == 0
                else "below the clock's resolution of 1 µs"
            )
            raise ValueError(
                f"Every({given}) has a period of {period!r} s {problem}: give a period of "
                "at least 1 µs, e.g. Every(seconds=1), or a period of 0 with max_loop_count=N "
                "to fire N times at once"
            )
        return self

    @model_validator(mode="after")
    def _check_longest_period(self) -> Every:
        # A longer period overflows datetime when its first firing is computed.
        if self.to_seconds > LONGEST_SECONDS:
            raise ValueError(
                f"Every's units add up to a period of {self.to_seconds:g} s, more than "
                f"{LONGEST_TEXT}, the longest supported: give a shorter period, or use "
                "Cron or At for a firing on a date"
            )
        return self

    @property
    def to_seconds(self) -> float:
        """The period in seconds (all units added up)."""
        total: float = 0
        for unit in _UNITS:
            value = getattr(self, unit)
            if value is not None:
                total += value * _UNIT_SECONDS[unit]
        return total

    @property
    def period(self) -> timedelta:
        """The period as a timedelta."""
        return timedelta(seconds=self.to_seconds)

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        anchor = _as_utc(anchor)
        period = self.to_seconds
        first = 0 if self.first_run_strategy == "immediate" else 1
        if after is None:
            return anchor + timedelta(seconds=first * period)
        after = _as_utc(after)
        if period == 0:  # every firing is at the anchor: none is strictly later than it
            return anchor if after < anchor else None
        # Grid points are anchor + k·P, each computed afresh (never accumulated); the
        # correction loops absorb float rounding so the result is truly the first > after.
        k = max(first, math.floor((after - anchor).total_seconds() / period) + 1)
        while k > first and anchor + timedelta(seconds=(k - 1) * period) > after:
            k -= 1
        while anchor + timedelta(seconds=k * period) <= after:
            k += 1
        return anchor + timedelta(seconds=k * period)

    def describe(self) -> str:
        return f"every {_describe_duration(self.to_seconds)}{self._count_suffix()}"

    async def trigger_next(self) -> None:
        self._increment_loop_counter()
        if self._current_loop_count == 1 and self.first_run_strategy == "immediate":
            return None
        await SYSTEM_CLOCK.sleep(self.to_seconds)

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        if self._current_loop_count == 0 and self.first_run_strategy == "immediate":
            return 0
        if self.should_trigger():
            return self.to_seconds
        return None


def _describe_duration(seconds: float) -> str:
    micros = round(seconds * 1_000_000)
    if micros == 0:
        return "0 s"
    parts = []
    for size, label in ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "min")):
        if micros >= size:
            parts.append(f"{micros // size} {label}")
            micros %= size
    for size, label in ((1_000_000, "s"), (1000, "ms"), (1, "µs")):
        if micros >= size:
            parts.append(f"{micros // size} {label}")
            micros %= size
    return " ".join(parts)


class _WallClockTrigger(LoopController[TriggerTypeT], Generic[TriggerTypeT]):
    """Fires at wall-clock times of its own ``tz``, with cron's DST rules."""

    tz: str

    @field_validator("tz")
    @classmethod
    def _check_tz(cls, tz: str) -> str:
        try:
            _cron.zone(tz)
        except Exception:
            raise ValueError(
                f"Unknown time zone {tz!r}: use an IANA name such as 'Europe/Berlin'"
            ) from None
        return tz

    def _expression(self) -> str:
        raise NotImplementedError

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        start = _as_utc(anchor if after is None else after)
        return _cron.next_instant(_cron.parse(self._expression()), _cron.zone(self.tz), start)

    async def get_waiting_time_till_next_trigger(
        self, now: Union[datetime, None] = None
    ) -> Union[float, None]:
        """Seconds from ``now`` (default: the clock's now) to the next firing.

        A naive ``now`` is read as a wall time in ``tz``, as aioclock did.
        """
        return self._seconds_until_firing(SYSTEM_CLOCK.now() if now is None else now)

    def _seconds_until_firing(self, now: datetime, *, counting_now: bool = False) -> float | None:
        """Seconds from `now` to the next firing strictly after it (or at it, `counting_now`)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=_cron.zone(self.tz))
        # Datetimes count in µs: strictly after one µs earlier is at or after `now`.
        after = now - timedelta(microseconds=1) if counting_now else now
        firing = self.next_fire_time(after, now)
        return None if firing is None else (firing - now).total_seconds()

    async def trigger_next(self) -> None:
        self._increment_loop_counter()
        waiting = await self.get_waiting_time_till_next_trigger()
        if waiting is not None:
            await SYSTEM_CLOCK.sleep(waiting)


class At(_WallClockTrigger):
    """Fire at a wall-clock time in ``tz``, every day or on one weekday.

    Exactly equivalent to ``Cron(cron=at.to_cron(), tz=at.tz)``.

    Attributes:
        second: 0..59.
        minute: 0..59.
        hour: 0..23.
        at: ``every day`` or ``every monday`` .. ``every sunday``.
        tz: IANA time zone name, e.g. ``Europe/Berlin``.
    """

    type_: Literal[Triggers.AT] = Triggers.AT
    max_loop_count: Union[PositiveInt, None] = None
    second: int = 0
    minute: int = 0
    hour: int = 0
    at: WeekdayT = "every day"
    tz: str

    _no_bool = field_validator("second", "minute", "hour", mode="before")(_reject_bool)

    @field_validator("second", "minute", "hour")
    @classmethod
    def _check_range(cls, value: int, info: ValidationInfo) -> int:
        highest = 23 if info.field_name == "hour" else 59
        if not 0 <= value <= highest:
            hint = " (midnight is hour=0)" if value == 24 else ""
            raise ValueError(f"{info.field_name} must be 0..{highest}, got {value}{hint}")
        return value

    def to_cron(self) -> str:
        """The equivalent six-field cron expression (seconds last, as croniter)."""
        weekday = "*" if self.at == "every day" else str((WEEKDAY_MAPPER[self.at] + 1) % 7)
        return f"{self.minute} {self.hour} * * {weekday} {self.second}"

    def _expression(self) -> str:
        return self.to_cron()

    def _get_next_ts(self, now: datetime) -> float:
        """Kept for aioclock compatibility: seconds from `now` to the first firing at or
        after it (0 when `now` is a firing instant), computed like every other firing."""
        seconds = self._seconds_until_firing(now, counting_now=True)
        assert seconds is not None  # an At always has a next firing
        return seconds

    def describe(self) -> str:
        clock = f"{self.hour:02}:{self.minute:02}" + (f":{self.second:02}" if self.second else "")
        days = "daily" if self.at == "every day" else f"on {_DAY_NAMES[WEEKDAY_MAPPER[self.at]]}s"
        return f"at {clock} {days} {self.tz}{self._count_suffix()}"


class Cron(_WallClockTrigger):
    """Fire on a cron expression, on the wall clock of ``tz``.

    Attributes:
        cron: Five fields (minute hour day-of-month month day-of-week) in croniter syntax;
            an optional sixth field is seconds.
        tz: IANA time zone name, e.g. ``Asia/Kolkata``.
    """

    type_: Literal[Triggers.CRON] = Triggers.CRON
    max_loop_count: Union[PositiveInt, None] = None
    cron: str
    tz: str

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, cron: str) -> str:
        try:
            _cron.parse(cron)
        except _cron.CronSyntaxError as error:
            raise ValueError(f"Invalid cron expression {cron!r}: {error}") from None
        return cron

    @model_validator(mode="after")
    def _check_fires(self) -> Cron:
        # Only a year field can run out of matches (a plain expression matches forever).
        now = SYSTEM_CLOCK.now()
        if self.next_fire_time(now, now) is None:
            raise ValueError(
                f"Cron({self.cron!r}) never fires: no time after now "
                f"({now:%Y-%m-%d %H:%M} UTC) matches it in {self.tz}; check its year field"
            )
        return self

    def _expression(self) -> str:
        return self.cron

    def describe(self) -> str:
        return f"cron {self.cron} {self.tz}{self._count_suffix()}"


class OrTrigger(LoopController):
    """Fire whenever the earliest of its inner triggers fires.

    Each inner trigger keeps its own ``max_loop_count``, so ``OrTrigger(triggers=[Once(),
    Once()])`` fires twice; it ends when all inner triggers have ended.

    Attributes:
        triggers: The inner triggers.
    """

    type_: Literal[Triggers.OR] = Triggers.OR
    triggers: list[TriggerT]
    max_loop_count: Union[PositiveInt, None] = None

    @field_validator("triggers")
    @classmethod
    def _check_not_empty(cls, triggers: list[Any]) -> list[Any]:
        if not triggers:
            raise ValueError(
                "OrTrigger(triggers=[]) never fires: give it at least one trigger, e.g. "
                "OrTrigger(triggers=[Every(hours=1), Cron(cron='0 9 * * *', tz='UTC')])"
            )
        return triggers

    # The spec's `OrTrigger([Once(), Once()])`: the inner triggers may come positionally.
    def __init__(self, triggers: list[Any] | None = None, /, **data: Any) -> None:
        if triggers is not None:
            if "triggers" in data:
                raise TypeError("OrTrigger() got the triggers twice (positional and keyword)")
            data["triggers"] = triggers
        super().__init__(**data)

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        firings = [trigger.next_fire_time(after, anchor) for trigger in self.triggers]
        return min((firing for firing in firings if firing is not None), default=None)

    def describe(self) -> str:
        inner = " or ".join(trigger.describe() for trigger in self.triggers)
        return inner + self._count_suffix()

    def should_trigger(self) -> bool:
        if not any(trigger.should_trigger() for trigger in self.triggers):
            return False
        return super().should_trigger()

    async def find_closest_trigger(self) -> tuple[BaseTrigger[Any], float | None]:
        """Legacy: the inner trigger that fires first, and its waiting time."""
        candidates: list[tuple[BaseTrigger[Any], float]] = []
        for trigger in self.triggers:
            if trigger.should_trigger():
                waiting = await trigger.get_waiting_time_till_next_trigger()
                if waiting is None:
                    return trigger, None
                candidates.append((trigger, waiting))
        if not candidates:
            return self, None
        return min(candidates, key=lambda candidate: candidate[1])

    async def trigger_next(self) -> None:
        self._increment_loop_counter()
        trigger, _ = await self.find_closest_trigger()
        if trigger is not self:
            await trigger.trigger_next()  # it waits for its own firing (aioclock 0.3.1)

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        _, waiting = await self.find_closest_trigger()
        return waiting


class AndTrigger(LoopController):
    """Fire when all of its inner triggers fire within `threshold` seconds of each other,
    at the latest of their instants (like APScheduler 4's AndTrigger).

    ``AndTrigger([Cron(cron="0 9 * * *", tz="Europe/Berlin"), Every(hours=2)])`` fires at
    9:00 on the days the two-hour grid passes 9:00. Inner triggers' own
    ``max_loop_count`` are ignored; the AndTrigger's counts its firings.

    Attributes:
        triggers: The inner triggers (at least two).
        threshold: Seconds by which their instants may differ and still agree.
        max_iterations: How many disagreements to step past looking for the next firing
            before giving up (the trigger then ends, with a warning).
    """

    type_: Literal[Triggers.AND] = Triggers.AND
    triggers: list[TriggerT]
    threshold: float = Field(default=1.0, ge=0)
    max_iterations: PositiveInt = 10_000
    max_loop_count: Union[PositiveInt, None] = None

    def __init__(self, triggers: list[Any] | None = None, /, **data: Any) -> None:
        if triggers is not None:
            if "triggers" in data:
                raise TypeError("AndTrigger() got the triggers twice (positional and keyword)")
            data["triggers"] = triggers
        super().__init__(**data)

    @field_validator("triggers")
    @classmethod
    def _at_least_two(cls, triggers: list[Any]) -> list[Any]:
        if len(triggers) < 2:
            raise ValueError(
                f"AndTrigger needs at least two triggers to agree, got {len(triggers)}"
            )
        for trigger in triggers:
            if type(trigger).next_fire_time is BaseTrigger.next_fire_time:
                raise ValueError(
                    f"AndTrigger cannot combine {type(trigger).__name__}: it needs triggers "
                    "that answer next_fire_time (the built-in ones do)"
                )
        return triggers

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        threshold = timedelta(seconds=self.threshold)
        times = [trigger.next_fire_time(after, anchor) for trigger in self.triggers]
        for _ in range(self.max_iterations):
            if any(time is None for time in times):
                return None
            found: list[datetime] = times  # type: ignore[assignment]
            latest = max(found)
            if latest - min(found) <= threshold:
                return latest
            # Move every trigger that is too early to its first firing in reach of the latest.
            reach = latest - threshold
            times = [
                trigger.next_fire_time(reach - timedelta(microseconds=1), anchor)
                if time < reach
                else time
                for trigger, time in zip(self.triggers, found, strict=True)
            ]
        import logging

        logging.getLogger("aioclock").warning(
            "AndTrigger %s: its triggers did not agree within %d steps; it fires no more",
            self.describe(),
            self.max_iterations,
        )
        return None

    def describe(self) -> str:
        inner = " and ".join(trigger.describe() for trigger in self.triggers)
        return inner + self._count_suffix()


TriggerT = Annotated[
    Union[Forever, Once, Every, At, OnStartUp, OnShutDown, Cron, OrTrigger, AndTrigger],
    Field(discriminator="type_"),
]
"""Any built-in trigger; validates JSON by its ``type_``."""
# OrTrigger's and AndTrigger's schemas (which need TriggerT) are built on first use: see
# defer_build.
