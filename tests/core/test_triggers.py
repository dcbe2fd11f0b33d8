"""Trigger maths: firing times, DST rules, validation, JSON round trip and the legacy protocol."""

from __future__ import annotations

import asyncio
import copy
import pickle
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from aioclock_core import triggers
from aioclock_core.triggers import (
    At,
    BaseTrigger,
    Cron,
    Every,
    Forever,
    LoopController,
    Once,
    OnShutDown,
    OnStartUp,
    OrTrigger,
    Triggers,
    TriggerT,
)

UTC = timezone.utc
ANCHOR = datetime(2024, 5, 17, 10, 0, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def firings(trigger: BaseTrigger, after: datetime, count: int) -> list[datetime]:
    found = []
    for _ in range(count):
        nxt = trigger.next_fire_time(after, after)
        assert nxt is not None
        found.append(nxt)
        after = nxt
    return found


def deprecated_triggers() -> tuple[OnStartUp, OnShutDown]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return OnStartUp(), OnShutDown()


# --- Every -----------------------------------------------------------------------------------

EVERY_CASES = [
    # (trigger, after as seconds after ANCHOR or None, expected seconds after ANCHOR)
    (Every(seconds=10), None, 10),
    (Every(seconds=10, first_run_strategy="immediate"), None, 0),
    (Every(seconds=10, first_run_strategy="immediate"), 0, 10),
    (Every(seconds=10), 25, 30),
    (Every(seconds=10), 30, 40),
    (Every(seconds=10), -100, 10),
    (Every(seconds=10, first_run_strategy="immediate"), -100, 0),
    (Every(minutes=1, seconds=30), 0, 90),
    (Every(hours=1, minutes=1), 3600, 3660),
    (Every(weeks=1, days=1), None, 8 * 86400),
    (Every(seconds=0.25), 1.1, 1.25),
    (Every(seconds=0.1), 0.3, 0.4),
    (Every(seconds=0.1), 0.7, 0.8),
    (Every(seconds=1.5), 2.999999, 3.0),
    (Every(seconds=7), 10 * 365 * 86400 + 1, (10 * 365 * 86400 // 7 + 1) * 7),
]


@pytest.mark.parametrize(("trigger", "after", "expected"), EVERY_CASES)
def test_every_fires_on_the_fixed_rate_grid(trigger: Every, after: float | None, expected: float):
    after_instant = None if after is None else ANCHOR + timedelta(seconds=after)
    assert trigger.next_fire_time(after_instant, ANCHOR) == ANCHOR + timedelta(seconds=expected)


@pytest.mark.parametrize("strategy", ["wait", "immediate"])
def test_every_with_a_zero_period_fires_only_at_its_anchor(strategy):
    trigger = Every(seconds=0, max_loop_count=3, first_run_strategy=strategy)
    assert trigger.next_fire_time(None, ANCHOR) == ANCHOR
    assert trigger.next_fire_time(ANCHOR - timedelta(seconds=1), ANCHOR) == ANCHOR
    assert trigger.next_fire_time(ANCHOR, ANCHOR) is None


def test_every_does_not_drift_over_many_fractional_periods():
    trigger, after = Every(seconds=0.1), None
    for _ in range(10_000):
        nxt = trigger.next_fire_time(after, ANCHOR)
        assert nxt is not None and (after is None or nxt > after)
        after = nxt
    assert after == ANCHOR + timedelta(seconds=1000)


def test_every_result_is_strictly_after_an_instant_between_microseconds():
    trigger = Every(seconds=1 / 3)
    after = ANCHOR + timedelta(seconds=1)
    nxt = trigger.next_fire_time(after, ANCHOR)
    assert nxt is not None and nxt > after
    assert nxt - after < timedelta(seconds=0.34)


def test_every_exposes_period_in_seconds_and_as_timedelta():
    trigger = Every(minutes=1, seconds=30.5)
    assert trigger.to_seconds == 90.5
    assert trigger.period == timedelta(seconds=90.5)


# --- At and Cron -------------------------------------------------------------------------------

WALL_CLOCK_CASES = [
    # aioclock's abs() bug: Monday seen from Sunday is 1 day ahead, not 6.
    (At(hour=12, at="every monday", tz="UTC"), "2024-05-19T12:00Z", "2024-05-20T12:00Z"),
    (At(hour=12, at="every sunday", tz="UTC"), "2024-05-20T12:00Z", "2024-05-26T12:00Z"),
    (At(hour=12, at="every friday", tz="UTC"), "2024-05-17T11:59:59Z", "2024-05-17T12:00Z"),
    (At(hour=12, at="every friday", tz="UTC"), "2024-05-17T12:00Z", "2024-05-24T12:00Z"),
    (
        At(hour=9, minute=30, second=15, tz="Europe/Berlin"),
        "2024-05-17T08:00Z",
        "2024-05-18T07:30:15Z",
    ),
    (At(hour=0, tz="Asia/Kathmandu"), "2024-05-17T00:00Z", "2024-05-17T18:15Z"),
    (Cron(cron="0 12 * * *", tz="Asia/Kolkata"), "2024-05-17T06:30Z", "2024-05-18T06:30Z"),
    (Cron(cron="*/5 * * * *", tz="UTC"), "2024-05-17T10:07:13Z", "2024-05-17T10:10Z"),
    (Cron(cron="30 9 * * mon-fri", tz="Europe/Berlin"), "2024-05-17T08:00Z", "2024-05-20T07:30Z"),
    (Cron(cron="0 0 1 */3 *", tz="UTC"), "2024-05-17T00:00Z", "2024-07-01T00:00Z"),
    (Cron(cron="0 0 * * 7", tz="UTC"), "2024-05-17T00:00Z", "2024-05-19T00:00Z"),
    (Cron(cron="0 0 29 2 *", tz="UTC"), "2024-03-01T00:00Z", "2028-02-29T00:00Z"),
    (Cron(cron="@hourly", tz="UTC"), "2024-05-17T10:00Z", "2024-05-17T11:00Z"),
    (Cron(cron="0 0 L * *", tz="UTC"), "2024-02-01T00:00Z", "2024-02-29T00:00Z"),
    (Cron(cron="0 0 * * 5#3", tz="UTC"), "2024-05-01T00:00Z", "2024-05-17T00:00Z"),
    (Cron(cron="* * * * * */20", tz="UTC"), "2024-05-17T10:00:41Z", "2024-05-17T10:01:00Z"),
    (Cron(cron="15 10 * * *", tz="Pacific/Chatham"), "2024-05-17T00:00Z", "2024-05-17T21:30Z"),
    (Cron(cron="0 6 * * *", tz="America/St_Johns"), "2024-05-17T00:00Z", "2024-05-17T08:30Z"),
]


@pytest.mark.parametrize(("trigger", "after", "expected"), WALL_CLOCK_CASES)
def test_wall_clock_trigger_fires_at_next_matching_wall_time(trigger, after, expected):
    assert trigger.next_fire_time(utc(after), ANCHOR) == utc(expected)


def test_cron_day_matches_when_either_restricted_day_field_matches():
    # Both day-of-month and day-of-week restricted: the 13th OR any Friday (as croniter).
    trigger = Cron(cron="0 0 13 * fri", tz="UTC")
    days = [f.day for f in firings(trigger, utc("2024-09-01T00:00Z"), 5)]
    assert days == [6, 13, 20, 27, 4]


def test_cron_first_firing_is_strictly_after_the_anchor():
    trigger = Cron(cron="0 * * * *", tz="UTC")
    assert trigger.next_fire_time(None, utc("2024-05-17T10:00Z")) == utc("2024-05-17T11:00Z")


def test_at_is_the_cron_expression_it_reports():
    at = At(hour=7, minute=5, second=3, at="every sunday", tz="Asia/Kolkata")
    assert at.to_cron() == "5 7 * * 0 3"
    cron = Cron(cron=at.to_cron(), tz=at.tz)
    assert firings(at, ANCHOR, 5) == firings(cron, ANCHOR, 5)


# --- DST tables (expected instants in UTC) -----------------------------------------------------

DST_CASES = [
    # Europe/Berlin 2024: 31 Mar 02:00 CET -> 03:00 CEST at 01:00Z; 27 Oct 03:00 CEST -> 02:00 CET.
    ("0 * * * *", "Europe/Berlin", "2024-03-30T23:30Z", ["00:00", "01:00", "02:00"]),
    ("*/15 * * * *", "Europe/Berlin", "2024-03-31T00:30Z", ["00:45", "01:00", "01:15"]),
    ("0 * * * *", "Europe/Berlin", "2024-10-26T22:30Z", ["23:00", "00:00", "02:00", "03:00"]),
    ("*/15 * * * *", "Europe/Berlin", "2024-10-27T00:20Z", ["00:30", "00:45", "02:00", "02:15"]),
    ("*/20 * * * *", "Europe/Berlin", "2024-10-27T01:10Z", ["02:00", "02:20"]),  # 2nd pass
    # America/New_York 2024: 10 Mar 02:00 EST -> 03:00 EDT at 07:00Z; 3 Nov 02:00 EDT -> 01:00 EST.
    ("0 * * * *", "America/New_York", "2024-03-10T05:30Z", ["06:00", "07:00", "08:00"]),
    ("*/15 * * * *", "America/New_York", "2024-03-10T06:40Z", ["06:45", "07:00", "07:15"]),
    ("0 * * * *", "America/New_York", "2024-11-03T03:30Z", ["04:00", "05:00", "07:00", "08:00"]),
    ("*/15 * * * *", "America/New_York", "2024-11-03T05:40Z", ["05:45", "07:00", "07:15"]),
    # Australia/Lord_Howe (30-minute shift): 6 Oct 2024 02:00 -> 02:30 (+11:00) at 15:30Z (5 Oct);
    # 7 Apr 2024 02:00 (+11:00) -> 01:30 (+10:30) at 15:00Z (6 Apr).
    ("0 * * * *", "Australia/Lord_Howe", "2024-10-05T14:00Z", ["14:30", "15:30", "16:00"]),
    ("*/15 * * * *", "Australia/Lord_Howe", "2024-10-05T15:10Z", ["15:15", "15:30", "15:45"]),
    ("0 * * * *", "Australia/Lord_Howe", "2024-04-06T13:30Z", ["14:00", "15:30", "16:30"]),
    ("*/15 * * * *", "Australia/Lord_Howe", "2024-04-06T14:20Z", ["14:30", "14:45", "15:30"]),
    ("*/15 * * * *", "Australia/Lord_Howe", "2024-04-06T15:05Z", ["15:30", "15:45"]),  # 2nd pass
]


@pytest.mark.parametrize(("cron", "tz", "after", "expected"), DST_CASES)
def test_cron_follows_the_wall_clock_across_dst(cron, tz, after, expected):
    start = utc(after)
    found = firings(Cron(cron=cron, tz=tz), start, len(expected))
    assert [f.strftime("%H:%M") for f in found] == expected
    assert all(start < f < start + timedelta(hours=5) for f in found)


AT_DST_CASES = [
    # A missing 02:30 fires at the transition; a repeated one fires once, at its first occurrence.
    ("02:30", "Europe/Berlin", "2024-03-30T12:00Z", ["2024-03-31T01:00Z", "2024-04-01T00:30Z"]),
    ("02:30", "Europe/Berlin", "2024-10-26T12:00Z", ["2024-10-27T00:30Z", "2024-10-28T01:30Z"]),
    ("02:30", "America/New_York", "2024-03-09T12:00Z", ["2024-03-10T07:00Z", "2024-03-11T06:30Z"]),
    ("02:30", "America/New_York", "2024-11-02T12:00Z", ["2024-11-03T07:30Z", "2024-11-04T07:30Z"]),
    ("01:30", "America/New_York", "2024-11-02T12:00Z", ["2024-11-03T05:30Z", "2024-11-04T06:30Z"]),
    (
        "02:15",
        "Australia/Lord_Howe",
        "2024-10-05T00:00Z",
        ["2024-10-05T15:30Z", "2024-10-06T15:15Z"],
    ),
    (
        "01:45",
        "Australia/Lord_Howe",
        "2024-04-06T00:00Z",
        ["2024-04-06T14:45Z", "2024-04-07T15:15Z"],
    ),
]


@pytest.mark.parametrize(("clock", "tz", "after", "expected"), AT_DST_CASES)
def test_daily_at_fires_once_per_day_across_dst(
    clock: str, tz: str, after: str, expected: list[str]
):
    hour, minute = (int(part) for part in clock.split(":"))
    trigger = At(hour=hour, minute=minute, tz=tz)
    assert firings(trigger, utc(after), len(expected)) == [utc(e) for e in expected]


def test_at_inside_the_repeated_hour_waits_for_the_next_day():
    # 02:10 CET in the second pass: 02:15 already fired at its first occurrence (00:15Z).
    trigger = Cron(cron="15 2 * * *", tz="Europe/Berlin")
    assert trigger.next_fire_time(utc("2024-10-27T01:10Z"), ANCHOR) == utc("2024-10-28T01:15Z")


def test_a_skipped_day_collapses_into_one_firing():
    # Pacific/Apia skipped 30 Dec 2011 (-10:00 -> +14:00 at 10:00Z): its four matches and
    # 31 Dec 00:00 all fire once, at the jump; then 31 Dec 06:00 +14:00.
    found = firings(Cron(cron="0 */6 * * *", tz="Pacific/Apia"), utc("2011-12-30T09:30Z"), 3)
    assert found == [utc("2011-12-30T10:00Z"), utc("2011-12-30T16:00Z"), utc("2011-12-30T22:00Z")]


# --- Once, Forever, OrTrigger ---------------------------------------------------------------------


@pytest.mark.parametrize("trigger", [Once(), Forever(), *deprecated_triggers()])
def test_single_shot_triggers_fire_at_the_anchor_and_then_never(trigger: BaseTrigger):
    assert trigger.next_fire_time(None, ANCHOR) == ANCHOR
    assert trigger.next_fire_time(ANCHOR, ANCHOR) is None


def test_only_forever_restarts_after_each_run():
    assert Forever.restarts_after_run is True
    assert not any(
        t.restarts_after_run for t in (Once(), Every(seconds=1), OrTrigger(triggers=[Once()]))
    )


def test_or_trigger_fires_at_the_earliest_inner_firing():
    trigger = OrTrigger(triggers=[Once(), Every(seconds=30), At(minute=5, hour=10, tz="UTC")])
    assert trigger.next_fire_time(None, ANCHOR) == ANCHOR
    assert trigger.next_fire_time(ANCHOR, ANCHOR) == ANCHOR + timedelta(seconds=30)
    after = ANCHOR + timedelta(minutes=4, seconds=45)
    assert trigger.next_fire_time(after, ANCHOR) == ANCHOR + timedelta(minutes=5)


def test_or_trigger_of_finished_inner_triggers_never_fires_again():
    assert OrTrigger(triggers=[Once(), Once()]).next_fire_time(ANCHOR, ANCHOR) is None


def test_custom_trigger_without_next_fire_time_uses_the_legacy_protocol():
    class Custom(LoopController[str]):
        type_: str = "CUSTOM"

        async def trigger_next(self) -> None:
            self._increment_loop_counter()

    with pytest.raises(NotImplementedError):
        Custom().next_fire_time(None, ANCHOR)


# --- validation --------------------------------------------------------------------------------

INVALID_CASES = [
    (At, {"hour": 24, "tz": "UTC"}, "hour must be 0..23, got 24"),
    (At, {"minute": 60, "tz": "UTC"}, "minute must be 0..59, got 60"),
    (At, {"hour": 1}, "tz"),
    (At, {"tz": "Mars/Base"}, "Unknown time zone 'Mars/Base': use an IANA name"),
    (Cron, {"cron": "0 * * * *", "tz": "Mars/Base"}, "Unknown time zone 'Mars/Base'"),
    (Cron, {"cron": "61 * * * *", "tz": "UTC"}, "Invalid cron expression '61 * * * *'"),
    (Cron, {"cron": "* * *", "tz": "UTC"}, "expected 5 fields"),
    (Cron, {"cron": "0 0 31 2 *", "tz": "UTC"}, "never matches"),
    (Cron, {"cron": "H * * * *", "tz": "UTC"}, "Invalid cron expression"),
    (Every, {}, "At least one time unit must be provided."),
    (Every, {"seconds": 0}, "Every(seconds=0) has a period of 0 s"),
    (Every, {"seconds": 0, "minutes": 0.0}, "e.g. Every(seconds=1)"),
    (Every, {"seconds": 0}, "or a period of 0 with max_loop_count=N to fire N times at once"),
    (Every, {"seconds": 1e-9, "max_loop_count": 2}, "below the clock's resolution of 1 µs"),
    (Every, {"seconds": -1}, "seconds must be a finite number >= 0, got -1"),
    (Every, {"seconds": float("nan")}, "finite number"),
    (Every, {"hours": float("inf")}, "finite number"),
    (Every, {"seconds": True}, "seconds must be a number, got True"),
    (Every, {"second": 5}, "Every has no field 'second': did you mean 'seconds'?"),
    (Every, {"seconds": 1, "max_loop_count": 0}, "greater than 0"),
    (Once, {"max_loop_count": 2}, "max_loop_count"),
    (Once, {"_current_loop_count": 3}, "no field '_current_loop_count'"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), INVALID_CASES)
def test_invalid_trigger_is_rejected_with_an_actionable_message(cls, kwargs, message):
    with pytest.raises(ValidationError) as caught:
        cls(**kwargs)
    assert message in str(caught.value)


# Values that would crash when serving (datetime overflow) or never fire at all.
UNSERVABLE_CASES = [
    (Every, {"days": 3e6}, "more than 100 years (3155760000 s)"),
    (Every, {"seconds": 1e308, "minutes": 1e308}, "a period of inf s"),
    (OrTrigger, {"triggers": []}, "OrTrigger(triggers=[]) never fires"),
    (Cron, {"cron": "0 0 1 1 * 0 2020", "tz": "UTC"}, "never fires: no time after now"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), UNSERVABLE_CASES)
def test_a_trigger_that_cannot_be_served_is_refused_at_construction(cls, kwargs, message):
    with pytest.raises(ValidationError) as caught:
        cls(**kwargs)
    assert message in str(caught.value)


def test_the_longest_period_and_a_future_year_are_accepted():
    assert Every(days=36524).to_seconds == 36524 * 86400
    assert Cron(cron="0 0 1 1 * 0 2045", tz="UTC").next_fire_time(ANCHOR, ANCHOR) is not None


# --- JSON and the public surface ----------------------------------------------------------------


def test_every_trigger_type_round_trips_through_json():
    start_up, shut_down = deprecated_triggers()
    items = [
        Forever(),
        Once(),
        Every(seconds=10, max_loop_count=3),
        Every(minutes=1.5, first_run_strategy="immediate"),
        At(hour=14, at="every sunday", tz="UTC", max_loop_count=2),
        Cron(cron="0 12 * * *", tz="Asia/Kolkata"),
        start_up,
        shut_down,
        OrTrigger(triggers=[Once(), OrTrigger(triggers=[Cron(cron="*/5 * * * *", tz="UTC")])]),
    ]
    items[1].expected_trigger_time = ANCHOR
    adapter = TypeAdapter(list[TriggerT])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        back = adapter.validate_json(adapter.dump_json(items))
    assert back == items
    assert [type(b) for b in back] == [type(i) for i in items]


def test_model_dump_validates_back_into_the_same_trigger():
    trigger = At(hour=3, tz="Europe/Berlin")
    assert At.model_validate(trigger.model_dump()) == trigger


def test_trigger_type_values_equal_their_names():
    assert [t.value for t in Triggers] == [t.name for t in Triggers]
    assert str(Triggers.CRON) == "CRON"


def test_deprecated_start_up_and_shut_down_warn_on_construction():
    with pytest.warns(DeprecationWarning):
        OnStartUp()
    with pytest.warns(DeprecationWarning):
        OnShutDown()


def test_public_surface_is_exactly_all():
    public = {name for name in vars(triggers) if not name.startswith("_")}
    assert set(triggers.__all__) <= public
    assert {"Every", "At", "Cron", "Once", "Forever", "OrTrigger", "TriggerT"} <= set(
        triggers.__all__
    )


# --- legacy aioclock protocol ------------------------------------------------------------------


async def test_legacy_waiting_time_for_at_counts_from_now():
    trigger = At(hour=12, at="every monday", tz="UTC")
    waiting = await asyncio.wait_for(
        trigger.get_waiting_time_till_next_trigger(now=utc("2024-05-19T12:00Z")), 1
    )
    assert waiting == 86400.0


async def test_legacy_waiting_time_for_cron_counts_from_now():
    trigger = Cron(cron="0 12 * * *", tz="Asia/Kolkata")
    waiting = await asyncio.wait_for(
        trigger.get_waiting_time_till_next_trigger(now=utc("2024-05-17T06:00Z")), 1
    )
    assert waiting == 1800.0


async def test_legacy_once_counts_its_single_run():
    trigger = Once()
    assert trigger.should_trigger()
    assert await trigger.get_waiting_time_till_next_trigger() == 0
    await asyncio.wait_for(trigger.trigger_next(), 1)
    assert not trigger.should_trigger()
    assert await trigger.get_waiting_time_till_next_trigger() is None


async def test_legacy_every_immediate_waits_zero_then_one_period():
    trigger = Every(seconds=5, first_run_strategy="immediate", max_loop_count=1)
    assert await trigger.get_waiting_time_till_next_trigger() == 0
    await asyncio.wait_for(trigger.trigger_next(), 1)
    assert not trigger.should_trigger()
    assert await trigger.get_waiting_time_till_next_trigger() is None


async def test_legacy_or_trigger_stops_when_all_inner_triggers_stop():
    trigger = OrTrigger(triggers=[Once(), Once()])
    for _ in range(2):
        assert trigger.should_trigger()
        await asyncio.wait_for(trigger.trigger_next(), 1)
    assert not trigger.should_trigger()


async def test_legacy_or_trigger_waits_once_for_its_closest_inner_trigger(monkeypatch):
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(triggers.SYSTEM_CLOCK, "sleep", record)
    trigger = OrTrigger(triggers=[Every(seconds=5), Every(seconds=3)])
    await asyncio.wait_for(trigger.trigger_next(), 1)
    assert waits == [3]  # the inner trigger's own wait only (aioclock 0.3.1)


def test_assigning_a_field_marks_it_set_on_that_trigger_only():
    # Triggers built with the same fields share one fields set until one is assigned to.
    first, second = Every(seconds=1), Every(seconds=2)
    first.minutes = 1
    assert first.model_fields_set == {"seconds", "minutes"}
    assert second.model_fields_set == {"seconds"}
    assert Every(seconds=3).model_fields_set == {"seconds"}
    assert repr(second.model_fields_set) == "{'seconds'}"


def test_a_copy_with_an_update_marks_the_field_set_on_the_copy_only():
    original = Every(seconds=1)
    copied = original.model_copy(update={"minutes": 1})
    assert copied.model_fields_set == {"seconds", "minutes"}
    assert original.model_fields_set == {"seconds"}


def test_the_loop_count_is_carried_by_copies_and_compared_by_equality():
    counted = Every(seconds=1, max_loop_count=2)
    counted._increment_loop_counter()
    assert counted._current_loop_count == 1
    assert copy.copy(counted)._current_loop_count == 1
    assert pickle.loads(pickle.dumps(counted))._current_loop_count == 1
    assert counted != Every(seconds=1, max_loop_count=2)
    counted._current_loop_count = 0
    assert counted == Every(seconds=1, max_loop_count=2)
