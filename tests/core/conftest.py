"""Fixtures for core tests: a fake clock, an app on it, an event recorder."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from aioclock_core import AioClock
from aioclock_core.testing import EventRecorder, FakeClock

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=START)


@pytest.fixture
def app(clock: FakeClock) -> AioClock:
    return AioClock(clock=clock, loop_block_threshold=None)


@pytest.fixture
def recorder(app: AioClock) -> EventRecorder:
    return EventRecorder(app)
