"""A fixture replica for the replica tests, configured by environment variables; run it
with `python -m tests.apps.replica_app`. SIGTERM stops it gracefully.

REDIS_URL, REPLICA (name), TASKS (count of `Every(INTERVAL)` tasks, each sleeping
RUN_SECONDS), LONG_TASK=1 (add a `Once` task that sleeps 120 s), CLAIM_MARGIN,
HEARTBEAT/LIVENESS (seconds), SWEEP (store's abandoned-run sweep interval).
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import signal
import sys

from aioclock_core import AioClock, Every, Once
from aioclock_core.ext.redis import RedisCoordinator
from aioclock_core.stores.redis import RedisStore

APP_NAME = "replicas"


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def build() -> AioClock:
    url = os.environ["REDIS_URL"]
    replica = os.environ["REPLICA"]
    coordinator = RedisCoordinator(
        url,
        replica=replica,
        heartbeat_interval=env_float("HEARTBEAT", 1.0),
        liveness_ttl=env_float("LIVENESS", 3.0),
    )
    store = RedisStore(url, replica=replica, sweep_interval=env_float("SWEEP", 1.0))
    app = AioClock(
        name=APP_NAME,
        store=store,
        coordinator=coordinator,
        claim_margin=env_float("CLAIM_MARGIN", 300.0),
        loop_block_threshold=None,
        shutdown_grace=2.0,
    )
    run_seconds = env_float("RUN_SECONDS", 0.05)
    for number in range(int(os.environ.get("TASKS", "0"))):

        async def work() -> None:
            await asyncio.sleep(run_seconds)

        app.task(trigger=Every(seconds=env_float("INTERVAL", 1.0)), name=f"task-{number:03d}")(work)
    if os.environ.get("LONG_TASK") == "1":

        @app.task(trigger=Once(), name="long")
        async def long() -> None:
            await asyncio.sleep(120)

    return app


def dump_tasks() -> None:
    """Every asyncio task's stack to stderr (SIGUSR2): where a replica whose loop is idle
    waits (SIGUSR1's thread stacks only show the loop's select)."""
    for task in asyncio.all_tasks():
        print(f"--- {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


async def main() -> None:
    app = build()
    serving = asyncio.ensure_future(app.serve())
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, app.request_shutdown)
    loop.add_signal_handler(signal.SIGUSR2, dump_tasks)
    await app.wait_started()
    print("started", flush=True)
    await serving


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # SIGUSR1 dumps every thread's stack to stderr (the test's log): a replica that does
    # not stop says where it hangs before it is killed.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    asyncio.run(main())
