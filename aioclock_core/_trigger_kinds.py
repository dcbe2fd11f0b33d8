"""What the scheduler needs to know about triggers without building them: the kinds
(`Triggers`), the calendar constants and `_as_utc`. No pydantic here, so the app's
modules can import this and leave pydantic to the first trigger built."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Literal

UTC = timezone.utc
WEEK_TO_SECOND = 604800
WeekdayT = Literal[
    "every monday", "every tuesday", "every wednesday", "every thursday", "every friday",
    "every saturday", "every sunday", "every day"
]  # fmt: skip
WEEKDAY_MAPPER: dict[WeekdayT, int] = {
    "every monday": 0, "every tuesday": 1, "every wednesday": 2, "every thursday": 3,
    "every friday": 4, "every saturday": 5, "every sunday": 6
}  # fmt: skip
LONGEST_SECONDS = 100 * 365.25 * 86400
"""The longest period, timeout or grace period accepted: 100 years (3,155,760,000 s).
Today's date plus much more overflows datetime (year 9999) when the task first runs."""
LONGEST_TEXT = f"100 years ({LONGEST_SECONDS:.0f} s)"
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Triggers(str, Enum):
    """The ``type_`` of each built-in trigger (values equal names, as in aioclock)."""

    CRON = "CRON"
    EVERY = "EVERY"
    ONCE = "ONCE"
    FOREVER = "FOREVER"
    ON_START_UP = "ON_START_UP"
    ON_SHUT_DOWN = "ON_SHUT_DOWN"
    AT = "AT"
    OR = "OR"
    AND = "AND"

    def __str__(self) -> str:
        return str(self.value)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is UTC:
        return instant
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
