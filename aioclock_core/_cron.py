"""The cron engine: parses cron expressions once and maps matching wall times to UTC instants.

Which wall times match is decided exactly as croniter decides it (the fields are expanded
by ``croniter.expand``, so names, ranges, steps, ``?`` and the day-of-month / day-of-week
rule are croniter's), but the search is our own field-wise jump, which is far cheaper than
croniter's per-call work. Exotic syntax (``L``, ``W``, ``#``, a year field) is evaluated by
croniter on naive wall times.

Wall times become instants by cron's DST rules: a wall time inside a spring-forward gap
fires at the transition instant (several of them collapse into that one firing), and a
wall time that occurs twice fires once, at its first occurrence.
"""

from __future__ import annotations

import calendar
import threading
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "CronSyntaxError", "WallSchedule", "next_instant", "parse", "transition_instant", "zone"
]  # fmt: skip

UTC = timezone.utc
_ONE_SECOND = timedelta(seconds=1)
_ONE_MINUTE = timedelta(minutes=1)
_TINY = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 -- wall times here are naive on purpose
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_wall = datetime
"""Builds naive wall times (the engine's unit, zoned only when mapped to an instant)."""


def _croniter_errors() -> tuple[type[Exception], type[Exception]]:
    """croniter's error types, imported only when an expression is parsed (import time)."""
    from croniter import CroniterBadDateError, CroniterError

    return CroniterBadDateError, CroniterError


# croniter gives up after 50 years without a match; so do we.
_MAX_YEARS_BETWEEN_MATCHES = 50
# (low, high) of minute, hour, day of month, month, day of week (0 = Sunday), second.
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (0, 59))


class CronSyntaxError(ValueError):
    """A cron expression croniter rejects, or one that never matches a real date."""


class WallSchedule(Protocol):
    """The set of naive wall times an expression matches."""

    def next_after(self, wall: datetime) -> datetime | None:
        """The earliest matching wall time strictly after ``wall``, or None if none is near."""
        ...


@dataclass(frozen=True)
class _FieldSchedule:
    """A plain five- or six-field expression, as sorted allowed values per field."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: tuple[int, ...]
    weekdays: frozenset[int]
    seconds: tuple[int, ...]
    day_or: bool
    has_seconds: bool

    def next_after(self, wall: datetime) -> datetime | None:
        # The constructor, not wall.replace(): replace's keyword arguments cost more than
        # the rest of a step, and this runs per firing (see the simulation benchmark row).
        if self.has_seconds:
            start = _wall(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
            start += _ONE_SECOND
        else:
            start = _wall(wall.year, wall.month, wall.day, wall.hour, wall.minute)
            start += _ONE_MINUTE
        year, month, day = start.year, start.month, start.day
        clock: tuple[int, int, int] | None = (start.hour, start.minute, start.second)
        last_year = min(year + _MAX_YEARS_BETWEEN_MATCHES, 9999)
        months = self.months
        while year <= last_year:
            if month not in self.months:
                index = bisect_left(months, month)
                if index == len(months):
                    year, month = year + 1, months[0]
                else:
                    month = months[index]
                day, clock = 1, None
                continue
            matching_day = self._first_day(year, month, day)
            if matching_day is None:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                day, clock = 1, None
                continue
            if matching_day != day:
                day, clock = matching_day, None
            time_of_day = self._first_time(clock)
            if time_of_day is not None:
                return _wall(year, month, day, *time_of_day)
            day, clock = day + 1, None
        return None

    def _first_day(self, year: int, month: int, day: int) -> int | None:
        last = _days_in_month(year, month)
        if day > last:
            return None
        weekday = (date(year, month, day).weekday() + 1) % 7
        days, weekdays, day_or = self.days, self.weekdays, self.day_or
        for candidate in range(day, last + 1):
            if day_or:
                if candidate in days or weekday in weekdays:
                    return candidate
            elif candidate in days and weekday in weekdays:
                return candidate
            weekday = weekday + 1 if weekday < 6 else 0
        return None

    def _first_time(self, clock: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        hours, minutes, seconds = self.hours, self.minutes, self.seconds
        if clock is None:
            return hours[0], minutes[0], seconds[0]
        hour, minute, second = clock
        h = bisect_left(hours, hour)
        if h == len(hours):
            return None
        if hours[h] != hour:
            return hours[h], minutes[0], seconds[0]
        m = bisect_left(minutes, minute)
        if m < len(minutes) and minutes[m] == minute:
            s = bisect_left(seconds, second)
            if s < len(seconds):
                return hour, minute, seconds[s]
            m += 1
        if m < len(minutes):
            return hour, minutes[m], seconds[0]
        if h + 1 < len(hours):
            return hours[h + 1], minutes[0], seconds[0]
        return None


class _CroniterSchedule:
    """Syntax our field engine does not model, evaluated by croniter on naive wall times."""

    def __init__(self, expression: str) -> None:
        # One instance per expression, so random ('R') fields keep the values drawn once.
        from croniter import croniter

        self._iterator = croniter(expression, _EPOCH)
        self._lock = threading.Lock()

    def next_after(self, wall: datetime) -> datetime | None:
        with self._lock:
            try:
                found: datetime = self._iterator.get_next(datetime, start_time=wall)
            except _croniter_errors()[0]:
                return None
        return found


@lru_cache(maxsize=4096)
def parse(expression: str) -> WallSchedule:
    """Parse ``expression`` once (cached); raise CronSyntaxError if it is unusable."""
    try:
        from croniter import croniter

        expanded, nth_weekday = croniter.expand(expression)
    except _croniter_errors()[1] as error:
        reason = str(error).strip().splitlines()[-1].rstrip(".")
        raise CronSyntaxError(
            f"{reason}; expected 5 fields 'minute hour day-of-month month day-of-week' "
            "(optionally a 6th for seconds), e.g. '*/15 * * * *'"
        ) from None
    fields = expression.split()
    day_text = fields[2].lower() if len(fields) >= 5 else ""
    exotic = (
        len(expanded) > 6
        or bool(nth_weekday)
        or any("l" in field for field in expanded)
        or "w" in day_text
    )
    schedule: WallSchedule
    if exotic:
        schedule = _CroniterSchedule(expression)
    else:
        values = [_values(field, index) for index, field in enumerate(expanded)]
        has_seconds = len(expanded) == 6
        schedule = _FieldSchedule(
            minutes=values[0],
            hours=values[1],
            days=frozenset(values[2]),
            months=values[3],
            weekdays=frozenset(values[4]),
            seconds=values[5] if has_seconds else (0,),
            day_or=expanded[2][0] != "*" and expanded[4][0] != "*",
            has_seconds=has_seconds,
        )
    if schedule.next_after(datetime(2000, 1, 1)) is None:  # noqa: DTZ001
        raise CronSyntaxError("it never matches a real date; check the days against the months")
    return schedule


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def _values(field: list[int | str], index: int) -> tuple[int, ...]:
    if field[0] == "*":
        low, high = _RANGES[index]
        return tuple(range(low, high + 1))
    return tuple(sorted({int(value) for value in field}))


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (cached; raises as ZoneInfo does)."""
    return ZoneInfo(name)


def next_instant(schedule: WallSchedule, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first firing strictly after the aware instant ``after``, as an aware UTC datetime."""
    local = after.astimezone(tz)
    wall = datetime.combine(local.date(), local.time())  # naive, with local's fold
    if local.fold:
        wall = wall.replace(fold=0)
        # ``after`` lies in the second pass of a repeated hour: every wall time up to the
        # end of that hour already fired, at its first occurrence.
        wall = _end_of_repeat(wall, tz) - _TINY
    while True:
        candidate = schedule.next_after(wall)
        if candidate is None:
            return None
        instant = _first_instant(candidate, tz)
        if instant > after:
            return instant
        wall = candidate


def _first_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    # tz.utcoffset(naive wall) reads the wall fields and fold, as for an aware wall time
    # in tz, without the cost of replace(tzinfo=...) per firing.
    offset = tz.utcoffset(wall)
    offset_after = tz.utcoffset(wall.replace(fold=1))
    assert offset is not None and offset_after is not None
    if offset >= offset_after:
        # Exists; when repeated, fold=0 is its first occurrence.
        return _EPOCH_UTC + (wall - _EPOCH - offset)
    # A spring-forward gap: fire at the transition, the first instant after the gap.
    return transition_instant(wall - offset_after, wall - offset, tz, offset_after)


def transition_instant(
    before: datetime, after: datetime, tz: ZoneInfo, new_offset: timedelta
) -> datetime:
    """The first whole-second UTC instant in (before, after] whose offset is ``new_offset``
    (``before`` and ``after`` are naive UTC; the result is aware UTC)."""
    low = int((before - _EPOCH).total_seconds())
    high = int((after - _EPOCH).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _end_of_repeat(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first whole-second wall time after ``wall`` that occurs only once."""
    first = wall.replace(tzinfo=tz).utcoffset()
    second = wall.replace(tzinfo=tz, fold=1).utcoffset()
    assert first is not None and second is not None
    low = wall.replace(microsecond=0)
    span = int((first - second).total_seconds())
    low_step, high_step = 0, max(span, 1)
    while high_step - low_step > 1:
        middle = (low_step + high_step) // 2
        probe = low + timedelta(seconds=middle)
        if probe.replace(tzinfo=tz).utcoffset() != probe.replace(tzinfo=tz, fold=1).utcoffset():
            low_step = middle
        else:
            high_step = middle
    return low + timedelta(seconds=high_step)
