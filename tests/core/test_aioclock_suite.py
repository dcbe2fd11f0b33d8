"""aioclock 0.3.1's own test suite, case by case, in our words: the drop-in promise.

Each of the 13 cases of aioclock's `tests/` (test_di, test_examples, test_lifespan,
test_timeout, test_triggers) has one test here, on the fake clock where time passes.
Two of aioclock's expectations encode its At defects (docs/migrating.md); here those
cases expect what the equivalent cron expression gives. Then one test per shim kept
for aioclock compatibility, showing that it delegates to the real implementation.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from aioclock_core import (
    AioClock,
    At,
    Cron,
    Depends,
    Every,
    Forever,
    Once,
    OnShutDown,
    OnStartUp,
    OrTrigger,
)
from aioclock_core.api import run_with_injected_deps
from aioclock_core.testing import FakeClock
from aioclock_core.triggers import LoopController, Triggers
from tests.bounds import time_limit

from . import test_docs as docs
from .conftest import START

ISTANBUL = ZoneInfo("Europe/Istanbul")
SUNDAY_2PM = datetime(2024, 3, 31, 14, 0, tzinfo=ISTANBUL)
DAY = 86400


def one() -> int:
    return 1


# --- test_di.py ---------------------------------------------------------------------------------


@time_limit()
async def test_a_decorated_task_runs_by_hand_with_its_dependency_injected(app: AioClock) -> None:
    @app.task(trigger=Once())
    async def main(bar: int = Depends(one)) -> int:
        return bar

    assert await run_with_injected_deps(main) == 1


# --- test_examples.py ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    docs.python_blocks(docs.DOCS / "migrating.md"),
    ids=lambda block: block.filename,
)
def test_the_migration_guides_examples_run(block: docs.Block) -> None:
    # aioclock runs every example of its docs; test_docs runs ours, this the drop-in page's.
    docs.test_docs_example_runs(block)


# --- test_lifespan.py ---------------------------------------------------------------------------


@time_limit()
async def test_an_async_lifespan_is_entered_before_a_task_and_exited_after(
    clock: FakeClock,
) -> None:
    model: list[int] = []
    seen_by_task: list[int] = []

    @asynccontextmanager
    async def lifespan(app: AioClock) -> AsyncIterator[AioClock]:
        model.append(2)
        yield app
        model.clear()

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)

    @app.task(trigger=Once())
    async def main() -> None:
        seen_by_task.extend(model)

    await app.serve()
    assert (seen_by_task, model) == ([2], [])


@time_limit()
async def test_a_sync_lifespan_is_entered_before_a_sync_task_and_exited_after(
    clock: FakeClock,
) -> None:
    model: list[int] = []
    seen_by_task: list[int] = []

    @contextmanager
    def lifespan(app: AioClock) -> Iterator[AioClock]:
        model.append(2)
        yield app
        model.clear()

    app = AioClock(lifespan=lifespan, clock=clock, loop_block_threshold=None)

    @app.task(trigger=Once())
    def main() -> None:
        seen_by_task.extend(model)

    await app.serve()
    assert (seen_by_task, model) == ([2], [])


# --- test_timeout.py ----------------------------------------------------------------------------


@time_limit()
async def test_a_task_run_by_hand_is_cancelled_at_its_timeout_and_the_error_logged(
    app: AioClock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    finished: list[bool] = []

    @app.task(trigger=Once(), timeout=0.1)
    async def main() -> None:
        await clock.sleep(10)
        finished.append(True)

    by_hand = asyncio.create_task(app._get_tasks()[0].run())
    with caplog.at_level(logging.ERROR, "aioclock"):
        await clock.advance(seconds=0.1)
        await by_hand  # returns: the timeout is logged, as a scheduled run's would be

    assert finished == []
    assert "TaskTimeoutError" in caplog.text
    assert "timed out after 0.1 s" in caplog.text


# --- test_triggers.py ---------------------------------------------------------------------------

AT_CASES = [
    # (At's fields, seconds to its first firing at or after Sunday 2024-03-31 14:00 Istanbul)
    ({"at": "every sunday", "hour": 14, "minute": 1}, 60),
    ({"at": "every sunday", "hour": 14, "second": 59}, 59),
    ({"at": "every day", "hour": 14, "second": 59}, 59),
    # aioclock 0.3.1 expects 1 day here: its abs() of the weekday difference.
    ({"at": "every saturday", "hour": 14}, 6 * DAY),
    ({"at": "every sunday", "hour": 14}, 0),
    ({"at": "every sunday", "hour": 13}, 7 * DAY - 3600),
]


@pytest.mark.parametrize(("fields", "seconds"), AT_CASES)
def test_at_counts_the_seconds_from_an_instant_to_its_next_firing(
    fields: dict[str, object], seconds: int
) -> None:
    trigger = At(tz="Europe/Istanbul", **fields)  # type: ignore[arg-type]
    assert trigger._get_next_ts(SUNDAY_2PM) == seconds


def test_at_counts_to_the_wall_clock_of_its_own_zone_from_an_instant_in_another() -> None:
    trigger = At(hour=3, tz="Europe/Berlin", at="every saturday")
    # Saturday 23:03:52 in Istanbul is Saturday 22:03:52 in Berlin: next Saturday 03:00
    # Berlin is 6 days 4:56:08 away. aioclock 0.3.1 expects an hour less (532568): it
    # took 03:00 on the wall clock of `now`'s zone instead of the trigger's.
    now = datetime.fromtimestamp(1720296232, tz=ISTANBUL)
    assert trigger._get_next_ts(now) == 536168
    assert now + timedelta(seconds=536168) == datetime(2024, 7, 13, 3, tzinfo=ZoneInfo(trigger.tz))


@time_limit()
async def test_a_loop_controller_stops_triggering_after_max_loop_count() -> None:
    once = Once()
    assert once.should_trigger() is True
    await once.trigger_next()
    assert once.should_trigger() is False

    class FiveTimes(LoopController[Literal["FIVE"]]):
        type_: Literal["FIVE"] = "FIVE"

        async def trigger_next(self) -> None:
            self._increment_loop_counter()

    five = FiveTimes(max_loop_count=5)
    for _ in range(5):
        assert five.should_trigger() is True
        await five.trigger_next()
    assert five.should_trigger() is False


@time_limit()
async def test_forever_always_triggers_again() -> None:
    trigger = Forever()
    for _ in range(3):
        assert trigger.should_trigger() is True
        await trigger.trigger_next()
    assert trigger.should_trigger() is True


@time_limit()
async def test_every_waits_one_period_first_unless_immediate() -> None:
    wait = Every(seconds=1, first_run_strategy="wait")
    assert await wait.get_waiting_time_till_next_trigger() == 1
    assert wait.next_fire_time(None, START) == START + timedelta(seconds=1)

    immediate = Every(seconds=1, first_run_strategy="immediate")
    assert await immediate.get_waiting_time_till_next_trigger() == 0
    assert immediate.next_fire_time(None, START) == START
    immediate._increment_loop_counter()
    assert await immediate.get_waiting_time_till_next_trigger() == 1


@time_limit()
async def test_cron_counts_the_seconds_to_its_next_firing_and_refuses_a_bad_field() -> None:
    every_minute = Cron(cron="* * * * *", tz="UTC")
    at_two = datetime(2024, 3, 31, 14, 0, tzinfo=timezone.utc)
    assert await every_minute.get_waiting_time_till_next_trigger(at_two) == 60

    minutes_2_to_10 = Cron(cron="2-10 * * * *", tz="UTC")
    in_berlin = datetime(2024, 3, 31, 11, 48, tzinfo=ZoneInfo("Europe/Berlin"))
    assert await minutes_2_to_10.get_waiting_time_till_next_trigger(in_berlin) == 14 * 60

    with pytest.raises(ValueError):
        Cron(cron="* * * * 65", tz="UTC")


@time_limit()
async def test_an_or_trigger_of_two_once_triggers_twice() -> None:
    trigger = OrTrigger(triggers=[Once(), Once()])
    for _ in range(2):
        assert trigger.should_trigger() is True
        await trigger.trigger_next()
    assert trigger.should_trigger() is False


@time_limit()
async def test_an_or_trigger_of_zero_period_everys_fires_all_their_counts_at_once(
    app: AioClock, clock: FakeClock
) -> None:
    def zero_period_pair() -> OrTrigger:
        return OrTrigger(
            triggers=[Every(seconds=0, max_loop_count=2), Every(seconds=0, max_loop_count=2)]
        )

    trigger = zero_period_pair()
    for _ in range(4):
        assert trigger.should_trigger() is True
        assert await trigger.get_waiting_time_till_next_trigger() == 0
        await trigger.trigger_next()
    assert trigger.should_trigger() is False

    starts = []

    @app.task(trigger=zero_period_pair())
    async def burst() -> None:
        starts.append(clock.now())

    await app.serve()  # returns: four runs, then the trigger is exhausted
    assert starts == [START] * 4


# --- the shims kept for aioclock compatibility ----------------------------------------------


def test_get_tasks_is_the_apps_tasks_without_start_up_and_shut_down_ones(app: AioClock) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        start_up, shut_down = OnStartUp(), OnShutDown()
    for name, trigger in (("up", start_up), ("work", Once()), ("down", shut_down)):
        app.task(trigger=trigger, name=name)(lambda: None)
    up, work, down = app.tasks

    assert app._get_tasks() == [work]
    assert app._get_tasks(exclude_type=set()) == app.tasks
    assert app._get_tasks(exclude_type={Triggers.ONCE}) == [up, down]


@time_limit()
async def test_task_run_fires_on_the_apps_clock_until_its_trigger_is_exhausted(
    app: AioClock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[float, int]] = []

    @app.task(trigger=Every(seconds=10, max_loop_count=3))
    async def job(value: int = Depends(one)) -> None:
        seen.append(((clock.now() - START).total_seconds(), value))
        raise LookupError("a failing run does not stop the schedule")

    app.override_dependencies(one, lambda: 7)  # the app's provider injects the run
    by_hand = asyncio.create_task(app.tasks[0].run())
    with caplog.at_level(logging.ERROR, "aioclock"):
        await clock.advance(seconds=30)
        await by_hand

    assert seen == [(10, 7), (20, 7), (30, 7)]
    assert caplog.text.count("LookupError") >= 3


BERLIN = ZoneInfo("Europe/Berlin")
INSTANTS = [
    SUNDAY_2PM,  # a firing instant of the first trigger below
    SUNDAY_2PM + timedelta(microseconds=1),
    datetime(2024, 3, 31, 1, 59, 59, tzinfo=BERLIN),  # just before 02:00-03:00 is skipped
    datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),  # the repeated 02:30
]


@pytest.mark.parametrize("now", INSTANTS)
@pytest.mark.parametrize(
    "trigger",
    [
        At(at="every sunday", hour=14, tz="Europe/Istanbul"),
        At(hour=2, minute=30, tz="Europe/Berlin"),
        At(at="every monday", hour=9, tz="America/New_York"),
    ],
)
def test_get_next_ts_is_the_real_next_firing_counting_now_itself(
    trigger: At, now: datetime
) -> None:
    just_before = now - timedelta(microseconds=1)
    firing = trigger.next_fire_time(just_before, just_before)
    assert firing is not None
    assert trigger._get_next_ts(now) == (firing - now).total_seconds()
    cron = Cron(cron=trigger.to_cron(), tz=trigger.tz)
    assert firing == cron.next_fire_time(just_before, just_before)


def test_get_next_ts_reads_a_naive_instant_on_the_wall_clock_of_the_triggers_zone() -> None:
    trigger = At(hour=14, minute=1, tz="Europe/Istanbul")
    assert trigger._get_next_ts(SUNDAY_2PM.replace(tzinfo=None)) == 60


def test_an_unbounded_zero_period_is_refused_with_the_way_out() -> None:
    with pytest.raises(ValidationError, match="no max_loop_count, so it would fire without end"):
        Every(seconds=0)
    assert Every(seconds=0, max_loop_count=2).to_seconds == 0
