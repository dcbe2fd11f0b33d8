"""Failure toasts: at most one every few seconds, summed up, none over the details."""

from __future__ import annotations

from aioclock_core import AioClock, Every
from aioclock_core.runs import RunKind, RunOutcome, RunRecord
from aioclock_core.testing import FakeClock
from clocktui.app import ClockConsole
from clocktui.failure_toasts import summarize
from clocktui.screens.detail import DetailScreen
from tests.apps.console_app import START
from tests.console.conftest import SIZE, advance, build_console, select, started, time_limit, until


def failed(task: str, error: str = "ValueError") -> RunRecord:
    from uuid import uuid4

    return RunRecord(
        run_id=uuid4(),
        task_id=uuid4(),
        task_name=task,
        kind=RunKind.SCHEDULE,
        scheduled_for=START,
        started_at=START,
        ended_at=START,
        duration=0.1,
        outcome=RunOutcome.FAILED,
        error_type=error,
    )


def test_one_failure_names_its_task_and_error() -> None:
    assert summarize([failed("sync")]) == ("Run failed", "sync failed: ValueError")
    assert summarize([failed("sync"), failed("sync")]) == (
        "Run failed",
        "sync failed 2 times: ValueError",
    )


def test_failures_of_several_tasks_are_summed_up() -> None:
    names = ["a", "b", "c", "d", "e"]
    assert summarize([failed(name) for name in names]) == (
        "Runs failed",
        "5 tasks failed: a, b, c and 2 more",
    )


def failing_console(count: int = 3) -> ClockConsole:
    app = AioClock(name="failing", clock=FakeClock(start=START), loop_block_threshold=None)

    async def boom() -> None:  # async: the tasks' runs end in the same turn of the loop
        raise ValueError("no")

    for index in range(count):
        app.task(trigger=Every(seconds=10), name=f"task {index}")(boom)
    return build_console(target=app)


class Ticks:
    """A monotonic clock for the toasts' spacing that the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@time_limit()
async def test_failures_come_as_one_toast_at_most_every_few_seconds() -> None:
    console = failing_console()
    ticks = Ticks()
    async with console.run_test(size=SIZE) as pilot:
        console.failure_toasts._monotonic = ticks
        await started(pilot)
        await advance(pilot, 10)  # three tasks fail at once
        assert [n.message for n in console._notifications] == [
            "3 tasks failed: task 0, task 1, task 2"
        ]
        await advance(pilot, 10)  # again, 0 s later by the toasts' clock: they wait
        assert len(console._notifications) == 1 and console.failure_toasts.shown == 1
        ticks.now += console.failure_toasts.every
        await until(lambda: console.failure_toasts.shown == 2, pilot, "the next toast")
        assert list(console._notifications)[-1].message.startswith("3 tasks failed")


@time_limit()
async def test_no_toast_covers_the_details_and_the_header_counts_the_failures() -> None:
    console = failing_console(count=1)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        select(console, "task 0")
        await pilot.press("enter")
        assert isinstance(console.screen, DetailScreen)
        await advance(pilot, 10)
        await pilot.pause(0.7)
        assert not console._notifications and console.failure_toasts.shown == 0
        header = console.screen.query_one("StatusHeader")
        assert "✗ 1 failing" in header.render().plain  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(lambda: console.failure_toasts.shown == 1, pilot, "the toast after details")


def test_long_names_are_cut_in_the_middle_in_a_toast() -> None:
    names = [f"reports.nightly.export.eu-west-1.{index:04}" for index in range(2)]
    _, text = summarize([failed(name) for name in names])
    assert text == "2 tasks failed: reports.n…ort.eu-west-1.0000, reports.n…ort.eu-west-1.0001"
