"""Stable task identity: UUID5 of the qualified name (or name=), duplicates refused."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from aioclock_core import AioClock, Every, Group
from aioclock_core.exceptions import DuplicateTaskError
from aioclock_core.task import TASK_ID_NAMESPACE


def test_task_id_is_uuid5_of_module_and_qualname(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=1))
    async def sync_orders() -> None: ...

    (task,) = app.tasks
    expected_name = f"{__name__}.test_task_id_is_uuid5_of_module_and_qualname.<locals>.sync_orders"
    assert task.name == expected_name
    assert task.id == uuid.uuid5(TASK_ID_NAMESPACE, expected_name)


def test_task_id_is_the_same_in_another_process() -> None:
    code = "from tests.apps_core import app; print(app.tasks[0].id)"
    ids = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    from tests.apps_core import app

    assert ids == {str(app.tasks[0].id)}


def test_name_gives_the_id(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=1), name="nightly-report")
    async def job() -> None: ...

    assert app.tasks[0].id == uuid.uuid5(TASK_ID_NAMESPACE, "nightly-report")


def test_two_tasks_with_one_name_are_refused(app: AioClock) -> None:
    @app.task(trigger=Every(seconds=1), name="same")
    async def first() -> None: ...

    with pytest.raises(DuplicateTaskError, match=r"'same'.*name='\.\.\.'"):

        @app.task(trigger=Every(seconds=2), name="same")
        async def second() -> None: ...


def test_a_group_task_clashing_with_an_app_task_is_refused(app: AioClock) -> None:
    group = Group()

    @group.task(trigger=Every(seconds=1), name="clash")
    async def in_group() -> None: ...

    @app.task(trigger=Every(seconds=1), name="clash")
    async def in_app() -> None: ...

    with pytest.raises(DuplicateTaskError):
        app.include_group(group)


def test_a_task_added_to_an_included_group_later_is_checked_too(app: AioClock) -> None:
    group = Group()
    app.include_group(group)

    @app.task(trigger=Every(seconds=1), name="x")
    async def in_app() -> None: ...

    with pytest.raises(DuplicateTaskError):

        @group.task(trigger=Every(seconds=1), name="x")
        async def in_group() -> None: ...


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"misfire_grace_time": float("nan")}, "misfire_grace_time must be a positive"),
        ({"timeout": 1e12}, "timeout must be at most 100 years"),
        ({"misfire_grace_time": 1e12}, "misfire_grace_time must be at most 100 years"),
        ({"max_concurrent_runs": 0}, "max_concurrent_runs must be a whole number >= 1"),
        ({"max_concurrent_runs": True}, "max_concurrent_runs must be a whole number >= 1"),
    ],
)
def test_bad_task_options_are_refused_naming_the_value(
    app: AioClock, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        app.task(trigger=Every(seconds=1), **kwargs)(lambda: None)  # type: ignore[arg-type]


def test_a_trigger_that_is_not_a_trigger_is_refused(app: AioClock) -> None:
    with pytest.raises(TypeError, match="trigger must be a trigger"):
        app.task(trigger="every 5 seconds")(lambda: None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "error"), [(123, TypeError), ("", ValueError), (" ", ValueError)])
def test_a_task_name_must_be_a_non_empty_string(
    app: AioClock, name: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=rf"name must be a non-empty string, got {name!r} "):
        app.task(trigger=Every(seconds=1), name=name)(lambda: None)  # type: ignore[arg-type]
    assert app.tasks == []
