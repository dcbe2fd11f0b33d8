"""Log capture: records logged during a run carry its task and run ids, in threads too."""

from __future__ import annotations

import logging

import pytest

from aioclock_core import AioClock, Every, Once
from aioclock_core.events import RunStarted
from aioclock_core.logs import RunContextFilter, current_run
from aioclock_core.testing import EventRecorder, FakeClock, serving

log = logging.getLogger("tests.jobs")


async def test_records_logged_in_a_run_carry_task_and_run_ids(
    app: AioClock, clock: FakeClock, recorder: EventRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    @app.task(trigger=Once(), name="async-job")
    async def async_job() -> None:
        log.info("from the loop")

    @app.task(trigger=Once(), name="sync-job")
    def sync_job() -> None:
        log.info("from a thread")

    caplog.set_level(logging.INFO, logger="tests.jobs")
    async with serving(app):
        await clock.settle()
    log.info("outside")

    run_ids = {e.task_name: e.run.run_id for e in recorder.of_type(RunStarted)}
    by_message = {r.getMessage(): r for r in caplog.records}
    assert by_message["from the loop"].aioclock_task_name == "async-job"  # type: ignore[attr-defined]
    assert by_message["from the loop"].aioclock_run_id == run_ids["async-job"]  # type: ignore[attr-defined]
    assert by_message["from a thread"].aioclock_task_name == "sync-job"  # type: ignore[attr-defined]
    assert by_message["from a thread"].aioclock_run_id == run_ids["sync-job"]  # type: ignore[attr-defined]
    assert by_message["outside"].aioclock_task_name is None  # type: ignore[attr-defined]


async def test_a_format_string_can_show_the_task_name(app: AioClock, clock: FakeClock) -> None:
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(logging.Formatter("[%(aioclock_task_name)s] %(message)s"))
    handler.addFilter(RunContextFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:

        @app.task(trigger=Every(seconds=10), name="poller")
        async def poller() -> None:
            log.info("polled")

        async with serving(app):
            await clock.advance(seconds=10)
    finally:
        log.removeHandler(handler)
    assert lines == ["[poller] polled"]


def test_current_run_is_none_outside_runs() -> None:
    assert current_run() is None
