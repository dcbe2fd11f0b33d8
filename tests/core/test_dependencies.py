"""Dependency injection: Depends (default, Annotated), nesting, overrides, registration checks."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated

import pytest

from aioclock_core import AioClock, Depends, Every, Once
from aioclock_core.api import run_with_injected_deps
from aioclock_core.testing import FakeClock, serving


def database_url() -> str:
    return "postgres://prod"


async def connection(url: str = Depends(database_url)) -> str:
    return f"conn({url})"


async def test_nested_sync_and_async_dependencies_are_injected(
    app: AioClock, clock: FakeClock
) -> None:
    seen = []

    @app.task(trigger=Once())
    async def job(conn: Annotated[str, Depends(connection)]) -> None:
        seen.append(conn)

    async with serving(app):
        await clock.settle()

    assert seen == ["conn(postgres://prod)"]


async def test_override_dependencies_swaps_a_dependency(app: AioClock, clock: FakeClock) -> None:
    seen = []

    @app.task(trigger=Once())
    async def job(conn: str = Depends(connection)) -> None:
        seen.append(conn)

    app.override_dependencies(database_url, lambda: "sqlite://test")
    async with serving(app):
        await clock.settle()

    assert seen == ["conn(sqlite://test)"]


async def test_overrides_of_one_app_do_not_leak_into_another(clock: FakeClock) -> None:
    first, second = AioClock(clock=clock), AioClock(clock=clock)
    first.override_dependencies(database_url, lambda: "other")

    @second.task(trigger=Once(), name="second-job")
    async def job(url: str = Depends(database_url)) -> str:
        return url

    assert await run_with_injected_deps(job) == "postgres://prod"


async def test_run_with_injected_deps_returns_the_result_and_honours_overrides(
    app: AioClock,
) -> None:
    @app.task(trigger=Every(hours=1))
    async def job(url: str = Depends(database_url)) -> str:
        return url

    assert await run_with_injected_deps(job) == "postgres://prod"
    app.override_dependencies(database_url, lambda: "overridden")
    assert await run_with_injected_deps(job) == "overridden"


def test_sync_task_stays_callable_as_plain_code(app: AioClock) -> None:
    @app.task(trigger=Every(hours=1))
    def add(a: int = 1, b: int = 2) -> int:
        return a + b

    assert add() == 3
    assert add(2, 3) == 5


def test_a_parameter_nothing_can_fill_is_refused_at_registration(app: AioClock) -> None:
    with pytest.raises(TypeError, match=r"parameter 'user_id'.*no default and no Depends"):

        @app.task(trigger=Every(hours=1))
        async def job(user_id: int) -> None: ...


async def test_sync_task_with_sync_dependency_runs_in_a_thread(
    app: AioClock, clock: FakeClock
) -> None:
    import threading

    seen = []

    @app.task(trigger=Once())
    def job(url: str = Depends(database_url)) -> None:
        seen.append((url, threading.current_thread() is threading.main_thread()))

    async with serving(app):
        await clock.settle()

    assert seen == [("postgres://prod", False)]


def test_sync_task_with_async_dependency_is_refused_at_registration(app: AioClock) -> None:
    with pytest.raises(TypeError, match="A sync task can only use sync dependencies"):

        @app.task(trigger=Once())
        def job(conn: str = Depends(connection)) -> None: ...


async def test_a_task_behind_a_decorator_still_gets_its_dependencies(
    app: AioClock, clock: FakeClock
) -> None:
    # Tasks without parameters skip the signature inspection at registration; a decorated
    # one (functools.wraps) must not: its dependencies are the wrapped function's.
    seen = []

    def logged(func: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(func)
        async def wrapper(*args: object, **kwargs: object) -> None:
            await func(*args, **kwargs)

        return wrapper

    @app.task(trigger=Once(), name="decorated")
    @logged
    async def job(conn: str = Depends(connection)) -> None:
        seen.append(conn)

    @app.task(trigger=Once(), name="plain")
    async def plain() -> None:
        seen.append("plain")

    assert [task.injects for task in app.tasks] == [True, False]
    async with serving(app):
        await clock.settle()
    assert sorted(seen) == ["conn(postgres://prod)", "plain"]
