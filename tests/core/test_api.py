"""aioclock_core.api and the FastAPI router."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest

from aioclock_core import AioClock, Depends, Every, Once
from aioclock_core.api import (
    TaskMetadata,
    get_metadata_of_all_tasks,
    run_specific_task,
)
from aioclock_core.events import RunKind, RunStarted
from aioclock_core.exceptions import TaskIdNotFound, TaskTimeoutError
from aioclock_core.state import TaskState
from aioclock_core.testing import EventRecorder, FakeClock, serving

from .conftest import START


def answer() -> int:
    return 42


async def test_run_specific_task_without_serving_calls_it_with_dependencies(
    app: AioClock,
) -> None:
    @app.task(trigger=Every(hours=1))
    async def job(value: int = Depends(answer)) -> int:
        return value

    assert await run_specific_task(app.tasks[0].id, app) == 42


async def test_run_specific_task_while_serving_is_a_manual_run(
    app: AioClock, clock: FakeClock, recorder: EventRecorder
) -> None:
    @app.task(trigger=Every(hours=1), name="job")
    def job(value: int = Depends(answer)) -> int:
        return value + 1

    async with serving(app):
        assert await run_specific_task(app.tasks[0].id, app) == 43

    (started,) = recorder.of_type(RunStarted)
    assert started.run.kind is RunKind.MANUAL


async def test_run_specific_task_raises_what_the_task_raised(app: AioClock) -> None:
    @app.task(trigger=Every(hours=1))
    async def job() -> None:
        raise LookupError("missing row")

    with pytest.raises(LookupError, match="missing row"):
        await run_specific_task(app.tasks[0].id, app)


async def test_run_specific_task_times_out_with_task_timeout_error(
    app: AioClock, clock: FakeClock
) -> None:
    @app.task(trigger=Every(hours=1), timeout=1)
    async def job() -> None:
        await clock.sleep(10)

    async with serving(app):
        call = asyncio.create_task(run_specific_task(app.tasks[0].id, app))
        await clock.advance(seconds=2)
        with pytest.raises(TaskTimeoutError):
            await call


async def test_run_specific_task_without_serving_times_out_on_the_apps_clock(
    app: AioClock, clock: FakeClock
) -> None:
    @app.task(trigger=Every(hours=1), timeout=1)
    async def job() -> None:
        await clock.sleep(10)

    call = asyncio.create_task(run_specific_task(app.tasks[0].id, app))
    await clock.advance(seconds=1)
    with pytest.raises(TaskTimeoutError, match="timed out after 1 s"):
        await call


async def test_unknown_task_id_raises_task_id_not_found(app: AioClock) -> None:
    with pytest.raises(TaskIdNotFound):
        await run_specific_task(uuid.uuid4(), app)


async def test_metadata_has_aioclock_fields_and_live_state(app: AioClock, clock: FakeClock) -> None:
    @app.task(trigger=Every(seconds=30), name="poll")
    async def poll() -> None: ...

    (before,) = await get_metadata_of_all_tasks(app)
    assert isinstance(before, TaskMetadata)
    assert (before.task_name, before.state, before.next_fire_time) == ("poll", TaskState.IDLE, None)
    async with serving(app):
        await clock.advance(seconds=30)
        (live,) = await get_metadata_of_all_tasks(app)
    assert live.run_count == 1
    assert live.next_fire_time == START + timedelta(seconds=60)
    assert live.model_dump(mode="json")["trigger"]["type_"] == "EVERY"


async def test_fastapi_router_lists_tasks_and_runs_one(app: AioClock) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from aioclock_core.ext.fast import make_fastapi_router

    ran = []

    @app.task(trigger=Once(), name="hello")
    def hello() -> None:
        ran.append(1)

    api = FastAPI()
    api.include_router(make_fastapi_router(app))
    client = TestClient(api)
    tasks = client.get("/tasks").json()
    assert [t["name"] for t in tasks] == ["hello"]
    assert client.post(f"/task/{tasks[0]['id']}").status_code == 200
    assert ran == [1]
    assert client.post(f"/task/{uuid.uuid4()}").status_code == 404


def test_importing_the_fastapi_extension_without_fastapi_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None\n"
        "try:\n    import aioclock_core.ext.fast\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'clocktui[fastapi]'" in out.stdout
