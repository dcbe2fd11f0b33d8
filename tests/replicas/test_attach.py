"""The console attached to a Redis fleet: the same ClockConsole, with a replica column and
the replica list; it shows a serving replica's tasks and runs, and steers it."""

from __future__ import annotations

import asyncio
from datetime import timezone

from aioclock_core import AioClock, Every
from aioclock_core.ext.redis import RedisCoordinator
from aioclock_core.stores.redis import RedisStore
from aioclock_core.testing import serving
from clocktui.attach import attach_console
from clocktui.cli import main
from clocktui.model import SchedulerPhase
from clocktui.sources.fleet import FleetSource
from clocktui.widgets.replica_list import ReplicaList
from clocktui.widgets.task_table import TaskTable
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


@time_limit(30)
async def test_the_fleet_console_shows_tasks_runs_and_replicas_and_pauses_everywhere(
    redis_url: str,
) -> None:
    app = replica(redis_url)
    async with serving(app):
        source = FleetSource(redis_url, APP, poll_seconds=0.1)
        console = attach_console(source, display_tz=timezone.utc, redraw_interval=0.02)
        async with console.run_test(size=(160, 45)) as pilot:
            model = console.model

            def tick_ran() -> bool:
                views = list(model.tasks.values())
                return len(views) == 1 and views[0].run_count >= 2

            await until(tick_ran)
            (view,) = model.tasks.values()
            assert (view.name, view.trigger, view.paused) == ("tick", "every 200 ms", False)
            assert view.last_run is not None and view.last_run.replica == "only"
            assert model.phase is SchedulerPhase.RUNNING
            assert [(r.name, r.alive) for r in model.replicas] == [("only", True)]
            table = console.screen.query_one(TaskTable)
            assert [column.key for column in table.columns][-1] == "replica"
            await pilot.pause()
            assert console.screen.query_one(ReplicaList).border_title == "Replicas"
            assert "alive" in console.export_screenshot()
            await pilot.press("p")
            await until(lambda: app.snapshot("tick").paused)
            await until(lambda: view.paused or next(iter(model.tasks.values())).paused)
            await pilot.press("P", "y")  # every task is paused: P resumes them all (confirmed)
            await until(lambda: not app.snapshot("tick").paused)


@time_limit(20)
async def test_the_console_shows_task_names_inert(redis_url: str) -> None:
    async with serving(replica(redis_url, task_name=HOSTILE_NAME)):
        source = FleetSource(redis_url, APP, poll_seconds=0.1)
        console = attach_console(source, display_tz=timezone.utc, redraw_interval=0.02)
        async with console.run_test(size=(120, 30)) as pilot:
            await until(lambda: bool(console.model.tasks))
            await pilot.pause()
            (view,) = console.model.tasks.values()
            assert view.name == "wipe\\x1b[2Jout"


def test_a_bad_attach_url_is_a_usage_error_naming_it(capsys: object) -> None:
    assert main(["--attach", "http://nowhere", "--app", "x"]) == 2
    assert "http://nowhere" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_a_redis_url_without_an_app_says_how_to_name_it(capsys: object) -> None:
    assert main(["attach", "redis://localhost:6379/0"]) == 2
    assert "?app=NAME" in capsys.readouterr().err  # type: ignore[attr-defined]
