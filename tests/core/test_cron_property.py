"""Property test: At and Cron agree with a croniter-based reference at thousands of instants.

The reference lets croniter decide WHICH wall times match, evaluated on naive local wall
times (where DST cannot confuse it), then maps wall times to instants by the cron rules we
promise: a nonexistent wall time fires at the first instant after the gap, a repeated one
once at its first occurrence. The answer is the first mapped instant strictly after the
query instant.

We do not use croniter on aware datetimes as the reference. Checked with croniter 7.0.0 in
Europe/Berlin and Australia/Lord_Howe: across a spring-forward gap it does what we do (a
missing 02:30 fires at 03:00 CEST, the transition), but across a fall-back it fires a
repeated wall time TWICE ("30 2 * * *" fires at 00:30Z and 01:30Z on 27 Oct 2024; "0 * * * *"
fires 02:00 CEST and 02:00 CET), which breaks the fire-once rule.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter
from pydantic import ValidationError

from aioclock_core.triggers import At, Cron

UTC = timezone.utc
SEED = 20240517
ZONES = [
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
    "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "Australia/Sydney",
    "America/Santiago", "America/Havana", "Europe/Dublin", "Africa/Casablanca", "Pacific/Apia",
    "Asia/Tehran", "America/Sao_Paulo",
]  # fmt: skip
WEEKDAYS = ["every day", "every monday", "every tuesday", "every wednesday", "every thursday",
            "every friday", "every saturday", "every sunday"]  # fmt: skip


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def first_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant a matching wall time fires at, found by brute force."""
    if exists(wall, tz):
        return wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the first occurrence
    probe = wall.replace(second=0) + timedelta(minutes=1)
    while not exists(probe, tz):  # gaps end on a whole minute in every tzdata zone
        probe += timedelta(minutes=1)
    return probe.replace(tzinfo=tz).astimezone(UTC)


def reference_next(expression: str, tz: ZoneInfo, after: datetime) -> datetime:
    wall = after.astimezone(tz).replace(tzinfo=None, fold=0)
    matches = croniter(expression, wall)
    while True:
        instant = first_instant(matches.get_next(datetime), tz)
        if instant > after:
            return instant


def never_matches(expression: str) -> bool:
    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterError:
        return True
    return False


def transitions(tz: ZoneInfo) -> list[datetime]:
    """UTC instants (to the second) at which ``tz`` changes offset, 2010-2030."""
    found = []
    day = datetime(2010, 1, 1, tzinfo=UTC)
    while day.year < 2031:
        nxt = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            low, high = day, nxt
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(tz).utcoffset() == nxt.astimezone(tz).utcoffset():
                    high = mid
                else:
                    low = mid
            found.append(high)
        day = nxt
    return found


def random_field(rng: random.Random, low: int, high: int, names: list[str] | None = None) -> str:
    a, b = sorted(rng.sample(range(low, high + 1), 2))
    step = rng.choice([2, 3, 5, 7, 10, 15])
    forms = [
        "*",
        "*",
        f"*/{step}",
        str(a),
        f"{a},{b}",
        f"{a}-{b}",
        f"{a}-{b}/{step}",
        f"{a}/{step}",
    ]
    if names:
        forms.append(rng.choice(names))
        forms.append(f"{names[a - low]}-{names[b - low]}")
    return rng.choice(forms)


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def random_expression(rng: random.Random) -> str:
    minute = random_field(rng, 0, 59)
    hour = random_field(rng, 0, 23)
    dom = rng.choice(["*", "*", "?", random_field(rng, 1, 31), "L", "15W", "*/1"])
    month = rng.choice(["*", "*", random_field(rng, 1, 12, MONTHS)])
    dow = rng.choice(["*", "*", "1-5", "0", "7", random_field(rng, 0, 6, DAYS), "5L", "1#2"])
    if dom == "?" and dow == "?":
        dow = "*"
    fields = [minute, hour, dom, month, dow]
    if rng.random() < 0.2:
        fields.append(rng.choice(["0", "*/15", "0,30", "*/20", "5-10"]))
    return " ".join(fields)


def sample_instants(rng: random.Random, tz: ZoneInfo, changes: list[datetime], n: int):
    for _ in range(n):
        if changes and rng.random() < 0.7:
            base = rng.choice(changes) + timedelta(seconds=rng.randint(-4 * 3600, 4 * 3600))
        else:
            base = datetime(2012, 1, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 18 * 365 * 86400)
            )
        grain = rng.random()
        if grain < 0.6:
            base = base.replace(second=0)
        elif grain < 0.7:
            base = base.replace(microsecond=rng.randint(0, 999_999))
        yield base


def test_cron_agrees_with_the_croniter_reference_everywhere():
    rng = random.Random(SEED)
    disagreements = []
    checked = 0
    for name in ZONES:
        tz = ZoneInfo(name)
        changes = transitions(tz)
        for _ in range(30):
            expression = random_expression(rng)
            try:
                trigger = Cron(cron=expression, tz=name)
            except ValidationError:
                assert never_matches(expression), expression
                continue
            for after in sample_instants(rng, tz, changes, 5):
                for _step in range(3):  # a few successive firings from each instant
                    got = trigger.next_fire_time(after, after)
                    want = reference_next(expression, tz, after)
                    checked += 1
                    if got != want:
                        disagreements.append((name, expression, after, got, want))
                        break
                    after = got
    assert checked > 3000
    assert disagreements == []


def test_at_agrees_with_its_cron_expression_and_the_reference():
    rng = random.Random(SEED + 1)
    disagreements = []
    for name in ZONES:
        tz = ZoneInfo(name)
        changes = transitions(tz)
        for _ in range(25):
            at = At(
                hour=rng.choice([0, 1, 2, 3, rng.randint(0, 23)]),
                minute=rng.choice([0, 15, 30, 45, rng.randint(0, 59)]),
                second=rng.choice([0, 0, rng.randint(0, 59)]),
                at=rng.choice(WEEKDAYS),
                tz=name,
            )
            cron = Cron(cron=at.to_cron(), tz=name)
            for after in sample_instants(rng, tz, changes, 8):
                got = at.next_fire_time(after, after)
                if got != cron.next_fire_time(after, after) or got != reference_next(
                    at.to_cron(), tz, after
                ):
                    disagreements.append((name, at.to_cron(), after, got))
    assert disagreements == []


def test_firings_are_strictly_increasing_through_every_transition():
    for name in ZONES:
        trigger = Cron(cron="*/30 * * * *", tz=name)
        for change in transitions(ZoneInfo(name))[:6]:
            after = change - timedelta(hours=3)
            while after < change + timedelta(hours=3):
                nxt = trigger.next_fire_time(after, after)
                assert nxt is not None and nxt > after
                after = nxt
