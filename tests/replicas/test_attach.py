"""The attach console: shows a serving replica's tasks and liveness, and controls it."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from aioclock_core import AioClock, Every
from aioclock_core.ext.redis import RedisCoordinator
from aioclock_core.stores.redis import RedisStore
from aioclock_core.testing import serving
from clocktui.attach import AttachConsole, FleetReader
from clocktui.cli import main
from tests.apps.hostile_app import NAME as HOSTILE_NAME
from tests.replicas.conftest import time_limit

APP = "attached"


def replica(url: str, task_name: str = "tick") -> AioClock:
    app = AioClock(
        name=APP,
        coordinator=RedisCoordinator(url, replica="only"),
        store=RedisStore(url, replica="only"),
        loop_block_threshold=None,
    )

    @app.task(trigger=Every(seconds=0.2, first_run_strategy="immediate"), name=task_name)
    async def tick() -> None:
        return None

    return app


async def until(condition: object, limit: float = 5.0) -> None:
    async def poll() -> None:
        while not (callable(condition) and condition()):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), limit)


@time_limit(20)
async def test_the_console_shows_tasks_runs_and_replicas_and_pauses_everywhere(
    redis_url: str,
) -> None:
    app = replica(redis_url)
    async with serving(app):
        console = AttachConsole(FleetReader(redis_url, APP), poll_seconds=0.1)
        async with console.run_test(size=(120, 30)) as pilot:
            await until(lambda: console.fleet.tasks and console.fleet.tasks[0].last_run)
            (task,) = console.fleet.tasks
            assert (task.name, task.trigger, task.paused) == ("tick", "every 200 ms", False)
            assert task.last_run is not None and task.last_run.replica == "only"
            assert [(r.name, r.alive) for r in console.fleet.replicas] == [("only", True)]
            assert console.query_one("#tasks", DataTable).row_count == 1
            await pilot.press("p")
            await until(lambda: app.snapshot("tick").paused)
            await until(lambda: console.fleet.tasks[0].paused)
            await pilot.press("R")
            await until(lambda: not app.snapshot("tick").paused)


@time_limit(20)
async def test_the_console_shows_task_names_inert(redis_url: str) -> None:
    async with serving(replica(redis_url, task_name=HOSTILE_NAME)):
        console = AttachConsole(FleetReader(redis_url, APP), poll_seconds=0.1)
        async with console.run_test(size=(120, 30)) as pilot:
            await until(lambda: console.fleet.tasks)
            await pilot.pause()
            name, *_ = console.query_one("#tasks", DataTable).get_row_at(0)
            assert str(name) == "wipe\\x1b[2Jout"


def test_a_bad_attach_url_is_a_usage_error_naming_it(capsys: object) -> None:
    assert main(["--attach", "http://nowhere", "--app", "x"]) == 2
    assert "http://nowhere" in capsys.readouterr().err  # type: ignore[attr-defined]
