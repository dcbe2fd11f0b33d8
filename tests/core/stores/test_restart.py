"""Restarts on a fake clock: two serving sessions, fresh apps, one SQLite file between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aioclock_core import AioClock, Every
from aioclock_core.events import RunSkipped, SkipReason
from aioclock_core.stores import SQLiteStore
from aioclock_core.testing import EventRecorder, FakeClock, serving
from tests.core.stores.conftest import T0, time_limit

PERIOD = timedelta(minutes=10)


class Session:
    """One process's life: an app with a task firing every 10 minutes, on its own clock."""

    def __init__(self, path: Path, start: datetime, **options: object) -> None:
        self.clock = FakeClock(start=start)
        resume = bool(options.pop("resume_schedules", True))
        self.app = AioClock(
            name="restarts",
            clock=self.clock,
            store=SQLiteStore(path),
            resume_schedules=resume,
            loop_block_threshold=None,
        )
        self.fired: list[datetime] = []
        self.events = EventRecorder(self.app)

        @self.app.task(trigger=Every(minutes=10), name="every ten", **options)  # type: ignore[arg-type]
        async def every_ten() -> None:
            self.fired.append(self.clock.now())

    def skips(self) -> list[RunSkipped]:
        return self.events.of_type(RunSkipped)  # type: ignore[return-value]


@asynccontextmanager
async def running(path: Path, start: datetime, **options: object) -> AsyncIterator[Session]:
    session = Session(path, start, **options)
    async with serving(session.app):
        await session.clock.settle()
        yield session


@time_limit()
async def test_a_paused_task_stays_paused_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "h.sqlite3"
    async with running(path, T0) as first:
        await first.app.pause("every ten")
    caplog.set_level("INFO", logger="aioclock")
    async with running(path, T0 + timedelta(minutes=1)) as second:
        assert "1 of 1 tasks start paused: 1 paused by a user in an earlier session" in (
            caplog.text
        )
        assert second.app.snapshot("every ten").paused
        await second.clock.advance(minutes=30)
    assert second.fired == []
    assert [s.reason for s in second.skips()] == [SkipReason.PAUSED] * 3


@time_limit()
async def test_an_interval_continues_from_its_last_firing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    async with running(path, T0) as first:
        await first.clock.advance(minutes=25)
    assert first.fired == [T0 + PERIOD, T0 + 2 * PERIOD]
    async with running(path, T0 + timedelta(minutes=27)) as second:
        assert second.app.upcoming("every ten", 1) == [T0 + 3 * PERIOD]
        await second.clock.advance(minutes=5)
    assert second.fired == [T0 + 3 * PERIOD]


@time_limit()
async def test_resume_schedules_false_starts_the_interval_afresh(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    async with running(path, T0) as first:
        await first.clock.advance(minutes=25)
    restart = T0 + timedelta(minutes=27)
    async with running(path, restart, resume_schedules=False) as second:
        assert second.app.upcoming("every ten", 1) == [restart + PERIOD]


@time_limit()
async def test_firings_missed_while_down_run_once_when_within_grace(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    async with running(path, T0) as first:
        await first.clock.advance(minutes=15)
    restart = T0 + timedelta(minutes=55)  # 20, 30, 40 and 50 were missed while down
    async with running(path, restart) as second:
        await second.clock.advance(minutes=1)
        runs = await second.app.store.recent_runs(limit=10)
        skips = await second.app.store.recent_skips()
    assert second.fired == [restart]
    assert [(r.scheduled_for, r.started_at) for r in runs[:1]] == [(T0 + 5 * PERIOD, restart)]
    assert [(s.reason, s.count, s.scheduled_for) for s in skips] == [
        (SkipReason.MISSED, 3, T0 + 4 * PERIOD)  # the latest of those coalesced
    ]


@time_limit()
async def test_firings_missed_beyond_grace_are_recorded_as_missed(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    async with running(path, T0, misfire_grace_time=60) as first:
        await first.clock.advance(minutes=15)
    restart = T0 + timedelta(minutes=55)
    async with running(path, restart, misfire_grace_time=60) as second:
        await second.clock.advance(minutes=6)
        skips = await second.app.store.recent_skips()
    assert second.fired == [T0 + 6 * PERIOD]
    assert [(s.reason, s.count, s.scheduled_for) for s in skips] == [
        (SkipReason.MISSED, 1, T0 + 5 * PERIOD),
        (SkipReason.MISSED, 3, T0 + 4 * PERIOD),
    ]


@time_limit()
async def test_a_last_firing_stored_in_the_future_is_taken_as_now_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "h.sqlite3"
    # A first process whose clock was a day ahead.
    async with running(path, T0 + timedelta(days=1)) as ahead:
        await ahead.clock.advance(minutes=10)
    assert ahead.fired == [T0 + timedelta(days=1) + PERIOD]
    async with running(path, T0) as second:
        await second.clock.advance(minutes=10)
    assert second.fired == [T0 + PERIOD]  # not silent until tomorrow
    assert "last firing" in caplog.text and "in the future" in caplog.text


@time_limit()
async def test_paused_for_a_session_is_not_stored(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    first = Session(path, T0)
    async with serving(first.app, paused=True):
        await first.clock.advance(minutes=10)
        assert first.app.snapshot("every ten").paused
    assert first.fired == []
    async with running(path, T0 + PERIOD) as second:
        assert not second.app.snapshot("every ten").paused
        await second.clock.advance(minutes=10)
    assert second.fired == [T0 + 2 * PERIOD]
