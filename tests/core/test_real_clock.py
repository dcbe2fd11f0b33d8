"""One real-clock check of fixed rate (precise figures live in the benchmarks)."""

from __future__ import annotations

import asyncio
import gc
import time

from aioclock_core import AioClock, Every


async def test_fixed_rate_does_not_drift_with_a_slow_body() -> None:
    app = AioClock(loop_block_threshold=None)
    starts: list[float] = []

    @app.task(trigger=Every(seconds=0.2, first_run_strategy="immediate", max_loop_count=11))
    async def tick() -> None:
        starts.append(time.monotonic())
        await asyncio.sleep(0.05)

    await asyncio.wait_for(app.serve(), 10)

    assert len(starts) == 11
    drift = (starts[-1] - starts[0]) - 10 * 0.2
    # A fixed-delay loop (aioclock 0.3) would be 10 x 50 ms = 500 ms late by now.
    assert abs(drift) < 0.030, f"drift after 10 periods: {drift * 1000:.1f} ms"


async def test_a_fired_wall_timer_is_freed_without_the_cyclic_collector() -> None:
    """A timer that fired must not stay in a reference cycle with its loop handle: with
    thousands of randomly phased tasks every firing's timer was cyclic garbage, and the
    collections it fed made the p99 lateness (docs/benchmarks.md)."""
    from datetime import datetime, timedelta, timezone

    from aioclock_core._clock import SYSTEM_CLOCK

    fired = asyncio.Event()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        timer = SYSTEM_CLOCK.call_at(
            datetime.now(timezone.utc) + timedelta(milliseconds=20), fired.set
        )
        await asyncio.wait_for(fired.wait(), 5)
        await asyncio.sleep(0)
        del timer
        gc.collect()
        leftovers = [type(o).__name__ for o in gc.garbage if "Timer" in type(o).__name__]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert leftovers == []
