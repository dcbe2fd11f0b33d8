"""Simulation: firings computed ahead agree with the fake clock's real firings, DST included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import pytest

from aioclock_core import AioClock, At, Cron, Every, Forever, Once, OrTrigger
from aioclock_core.simulation import Simulator, dst_transitions, simulate
from aioclock_core.testing import FakeClock, serving
from aioclock_core.triggers import LoopController
from tests.bounds import time_limit

UTC = timezone.utc
ONE_MICROSECOND = timedelta(microseconds=1)

DST_NIGHTS = {
    "Europe/Berlin spring forward": ("Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC)),
    "Europe/Berlin fall back": ("Europe/Berlin", datetime(2026, 10, 24, 12, tzinfo=UTC)),
    "America/New_York spring forward": ("America/New_York", datetime(2026, 3, 7, 12, tzinfo=UTC)),
    "America/New_York fall back": ("America/New_York", datetime(2026, 10, 31, 12, tzinfo=UTC)),
}
"""Each zone's DST nights of 2026, from noon UTC the day before."""


def mixed_app(zone: str, clock: FakeClock, fired: dict[str, list[datetime]]) -> AioClock:
    """Tasks whose wall times fall in the skipped and the repeated hours of `zone`, beside
    intervals, limits and an OrTrigger; each body records the instant it ran at."""
    app = AioClock(clock=clock, loop_block_threshold=None)
    triggers = {
        "in the gap": Cron(cron="30 2 * * *", tz=zone),
        "every 20 min wall": Cron(cron="*/20 * * * *", tz=zone),
        "repeated hour": At(hour=1, minute=30, tz=zone),
        "seconds field": Cron(cron="*/15 1-3 * * * 10", tz=zone),
        "every 45 min": Every(minutes=45),
        "every hour now": Every(hours=1, first_run_strategy="immediate"),
        "three times": Every(minutes=7, max_loop_count=3),
        "either": OrTrigger([At(hour=3, tz=zone), Every(hours=5)], max_loop_count=6),
        "once": Once(),
    }
    for name, trigger in triggers.items():

        async def record(name: str = name) -> None:
            fired.setdefault(name, []).append(clock.now())

        app.task(trigger=trigger, name=name)(record)
    return app


@pytest.mark.parametrize("night", list(DST_NIGHTS))
@time_limit(30)
async def test_simulation_agrees_with_the_fake_clocks_firings_across_dst(night: str) -> None:
    zone, start = DST_NIGHTS[night]
    end = start + timedelta(days=2)
    fired: dict[str, list[datetime]] = {}
    clock = FakeClock(start=start)
    app = mixed_app(zone, clock, fired)

    simulation = simulate(app, start, end)
    async with serving(app):
        await clock.advance_to(end - ONE_MICROSECOND)

    simulated = {task.name: list(task.firings) for task in simulation.tasks if task.firings}
    assert simulated == fired
    assert len(fired["in the gap"]) == 2  # the skipped 02:30 still fires, at the change


def test_simulation_finds_the_zones_transitions_in_the_window() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    transitions = dst_transitions("Europe/Berlin", start, start + timedelta(days=365))
    assert [(t.at, t.shift) for t in transitions] == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), timedelta(hours=1)),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), timedelta(hours=-1)),
    ]
    assert dst_transitions("UTC", start, start + timedelta(days=365)) == []


def test_no_task_body_or_lifespan_runs() -> None:
    @asynccontextmanager
    async def lifespan(_: AioClock) -> AsyncIterator[None]:
        raise RuntimeError("the lifespan ran")
        yield

    app = AioClock(lifespan=lifespan)

    @app.task(trigger=Every(seconds=1, first_run_strategy="immediate"), name="explode")
    def explode() -> None:
        raise RuntimeError("a body ran")

    start = datetime(2026, 1, 1, tzinfo=UTC)
    simulation = simulate(app, start, start + timedelta(minutes=1))
    assert len(simulation.tasks[0].firings) == 60


class LegacyTrigger(LoopController[str]):
    """An aioclock-style trigger: it sleeps on its own instead of naming instants."""

    type_: str = "LEGACY"

    async def trigger_next(self) -> None:
        return None


def test_triggers_that_cannot_be_simulated_are_listed_with_the_reason() -> None:
    app = AioClock()
    for name, trigger in {
        "legacy": LegacyTrigger(),
        "forever": Forever(),
        "or forever": OrTrigger([Every(seconds=1), Forever()]),
    }.items():
        app.task(trigger=trigger, name=name)(lambda: None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    reasons = {t.name: t.not_simulated for t in simulate(app, start, start + timedelta(1)).tasks}
    assert "LegacyTrigger waits on its own" in (reasons["legacy"] or "")
    assert "each run ends" in (reasons["forever"] or "")
    assert reasons["forever"] == reasons["or forever"]


def test_herds_count_the_firings_that_fall_on_one_instant() -> None:
    app = AioClock()
    for index in range(4):
        app.task(trigger=Every(minutes=10), name=f"every ten {index}")(lambda: None)
    app.task(trigger=Every(minutes=20), name="every twenty")(lambda: None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    simulation = simulate(app, start, start + timedelta(minutes=41))
    minutes = [(h.at - start) // timedelta(minutes=1) for h in simulation.herds(4)]
    assert minutes == [20, 40]
    assert {t.name for t in simulation.tasks_at(start + timedelta(minutes=20))} == {
        *(f"every ten {i}" for i in range(4)),
        "every twenty",
    }


def test_equal_triggers_share_their_firings_and_still_count_once_each() -> None:
    app = AioClock()
    app.task(trigger=Every(minutes=1), name="a")(lambda: None)
    app.task(trigger=Every(minutes=1), name="b")(lambda: None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    simulation = simulate(app, start, start + timedelta(minutes=3))
    assert simulation.tasks[0].firings == simulation.tasks[1].firings
    assert [h.size for h in simulation.herds(1)] == [2, 2]
    assert simulation.firing_count == 4


@time_limit()
async def test_a_serving_apps_simulator_continues_its_live_timelines() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    fired: dict[str, list[datetime]] = {}
    clock = FakeClock(start=start)
    app = mixed_app("Europe/Berlin", clock, fired)
    end = start + timedelta(days=1)
    async with serving(app):
        await clock.advance(hours=5, minutes=3)
        ahead = app.simulator().run(end)
        seen = {name: len(instants) for name, instants in fired.items()}
        await clock.advance_to(end - ONE_MICROSECOND)

    later = {name: instants[seen.get(name, 0) :] for name, instants in fired.items()}
    assert {t.name: list(t.firings) for t in ahead.tasks} == {
        name: later.get(name, []) for name in (t.name for t in app.tasks)
    }


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC), "start must be an aware"),
        (datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "must end after"),
    ],
)
def test_a_window_that_is_naive_or_empty_is_refused(
    start: datetime, end: datetime, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Simulator.fresh([], start).run(end)
