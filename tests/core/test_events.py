"""Event delivery: thread callbacks in batches, async iterators, misbehaving subscribers."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import (
    Event,
    RunFinished,
    RunStarted,
    SchedulerStarted,
    TaskPaused,
    TaskScheduled,
)
from aioclock_core.testing import FakeClock, serving


async def test_callback_subscribers_get_batches_on_another_thread(
    app: AioClock, clock: FakeClock
) -> None:
    received: list[Event] = []
    threads: set[int] = set()

    def on_events(batch: Sequence[Event]) -> None:
        threads.add(threading.get_ident())
        received.extend(batch)

    app.subscribe(on_events)

    @app.task(trigger=Every(seconds=10))
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=20)
    assert app.flush_events(timeout=5)

    assert threading.get_ident() not in threads
    kinds = [type(e) for e in received]
    assert kinds.count(RunStarted) == 2 and kinds.count(RunFinished) == 2
    assert isinstance(received[0], TaskScheduled)


async def test_a_raising_subscriber_breaks_nothing(app: AioClock, clock: FakeClock) -> None:
    runs = []

    def explode(batch: Sequence[Event]) -> None:
        raise RuntimeError("subscriber bug")

    app.subscribe(explode)
    app.subscribe(explode, on_loop=True)

    @app.task(trigger=Every(seconds=10))
    async def tick() -> None:
        runs.append(1)

    async with serving(app):
        await clock.advance(seconds=30)

    assert runs == [1, 1, 1]


async def test_a_slow_subscriber_does_not_delay_firings() -> None:
    app = AioClock(loop_block_threshold=None)
    starts: list[float] = []
    release = threading.Event()

    def slow(batch: Sequence[Event]) -> None:
        release.wait(2)  # a subscriber stuck for seconds

    app.subscribe(slow)

    @app.task(trigger=Every(seconds=0.05, first_run_strategy="immediate", max_loop_count=5))
    async def tick() -> None:
        starts.append(time.monotonic())

    await asyncio.wait_for(app.serve(), 5)
    release.set()
    assert len(starts) == 5
    assert starts[-1] - starts[0] < 0.5


async def test_async_iterator_yields_events_in_order(app: AioClock, clock: FakeClock) -> None:
    @app.task(trigger=Every(seconds=10))
    async def tick() -> None: ...

    seen: list[type[Event]] = []

    async def consume() -> None:
        async for event in app.events():
            seen.append(type(event))
            if isinstance(event, RunFinished):
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    async with serving(app):
        await clock.advance(seconds=10)
        await asyncio.wait_for(consumer, 2)

    assert seen[0] is TaskScheduled
    assert SchedulerStarted in seen
    assert seen[-2:] == [RunStarted, RunFinished] or seen[-3:-1] == [RunStarted, TaskScheduled]


async def test_a_lagging_iterator_drops_the_oldest_events(
    app: AioClock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    @app.task(trigger=Every(seconds=1))
    async def tick() -> None: ...

    iterator = app.events(max_pending=5).__aiter__()
    first = asyncio.create_task(iterator.__anext__())
    await asyncio.sleep(0)
    async with serving(app):
        await first
        await clock.advance(seconds=20)
        kept = [await iterator.__anext__() for _ in range(5)]
    # Only the newest five survive: they all happened in the last second.
    assert all(event.at >= clock.now() - timedelta(seconds=1) for event in kept)
    assert any("lost" in r.getMessage() for r in caplog.records)
    await iterator.aclose()  # type: ignore[attr-defined]


def test_events_are_frozen() -> None:
    import dataclasses
    from datetime import datetime, timezone

    event = SchedulerStarted(at=datetime(2026, 1, 1, tzinfo=timezone.utc), task_count=1)
    try:
        event.task_count = 2  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("events must be immutable")


async def test_a_thread_subscriber_with_kinds_gets_only_those_and_costs_no_run_events(
    app: AioClock, clock: FakeClock
) -> None:
    received: list[Event] = []
    app.subscribe(received.extend, kinds=[SchedulerStarted, TaskPaused])

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=20)
        await app.pause("tick")
        assert not app._bus.wants_runs and not app._bus.wants_plans
    assert app.flush_events(timeout=5)
    assert [type(e) for e in received] == [SchedulerStarted, TaskPaused]


async def test_next_fire_times_of_all_tasks_or_some(app: AioClock, clock: FakeClock) -> None:
    @app.task(trigger=Every(seconds=10), name="often")
    async def often() -> None: ...

    @app.task(trigger=Once(), name="once")
    async def once() -> None: ...

    async with serving(app):
        await clock.settle()
        often_id, once_id = app.snapshot("often").task_id, app.snapshot("once").task_id
        times = app.next_fire_times()
        only = app.next_fire_times([often_id, uuid.uuid4()])
    due = clock.now() + timedelta(seconds=10)
    assert times == {often_id: due, once_id: None}
    assert only == {often_id: due}
