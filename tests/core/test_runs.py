"""Run records and their one delivery path: what a RunRecord holds, the order sinks get
them in, the bounds on what a run keeps."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import pytest

from aioclock_core import AioClock, Every, Once
from aioclock_core._scheduler import new_run_id
from aioclock_core.events import RunFinished, RunStarted
from aioclock_core.runs import (
    MAX_LOG_LINES,
    MAX_RESULT_CHARS,
    RunKind,
    RunOutcome,
    RunRecord,
    RunSink,
    run_from_json,
    run_to_json,
)
from aioclock_core.state import TaskState, task_state
from aioclock_core.testing import FakeClock, serving
from tests.bounds import time_limit

log = logging.getLogger("tests.runs")


class Recording(RunSink):
    """A sink that notes every call, in order."""

    def __init__(self, started: bool = True, every_start: bool = True) -> None:
        self.calls: list[tuple[str, tuple[tuple[str, UUID, RunOutcome | None], ...]]] = []
        self.records: list[RunRecord] = []
        self._started = started
        self._every_start = every_start

    @property
    def wants_started(self) -> bool:
        return self._started

    @property
    def wants_every_start(self) -> bool:
        return self._every_start

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        self.records.extend(runs)
        self.calls.append(("deliver", tuple((r.task_name, r.run_id, r.outcome) for r in runs)))

    def idle(self) -> None:
        self.calls.append(("idle", ()))

    def busy(self) -> None:
        self.calls.append(("busy", ()))


@time_limit()
async def test_a_sink_gets_start_then_end_then_idle_in_order(
    app: AioClock, clock: FakeClock
) -> None:
    sink = Recording()
    app.add_run_sink(sink)

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=20)

    flat = []
    for call, runs in sink.calls:
        flat += [(call, outcome) for _, _, outcome in runs] if runs else [(call, None)]
    one_run = [
        ("busy", None),
        ("deliver", None),
        ("deliver", RunOutcome.SUCCEEDED),
        ("idle", None),
    ]
    # "start, end, idle" for each run: never idle before the run's end was delivered.
    assert flat == one_run * 2
    started, ended = sink.records[0], sink.records[1]
    assert started.run_id == ended.run_id and started.outcome is None and started.ended_at is None


@time_limit()
async def test_a_burst_is_delivered_in_batches_not_per_run(app: AioClock, clock: FakeClock) -> None:
    sink = Recording()
    app.add_run_sink(sink)
    for number in range(50):
        app.task(trigger=Every(seconds=1), name=f"t{number}")(_nothing)

    async with serving(app):
        await clock.advance(seconds=1)

    deliveries = [runs for call, runs in sink.calls if call == "deliver"]
    assert sum(len(runs) for runs in deliveries) == 100
    assert len(deliveries) <= 4  # the starts, the ends: a batch per loop turn
    assert [call for call, _ in sink.calls][-1] == "idle"


async def _nothing() -> None: ...


@time_limit()
async def test_a_sink_added_while_serving_gets_only_the_records_made_after(
    app: AioClock, clock: FakeClock
) -> None:
    early, late = Recording(), Recording()
    app.add_run_sink(early)
    seen_by_early: list[RunOutcome | None] = []

    @app.task(trigger=Every(hours=1), name="by hand")
    async def by_hand() -> None:
        # The run's started record is made but not delivered yet (end of the loop turn):
        # adding a sink hands it to the earlier sinks first.
        app.add_run_sink(late)
        seen_by_early.extend(r.outcome for r in early.records)

    async with serving(app):
        await app.run_now("by hand")
        await clock.settle()
    assert seen_by_early == [None]
    assert [r.outcome for r in early.records] == [None, RunOutcome.SUCCEEDED]
    assert [r.outcome for r in late.records] == [RunOutcome.SUCCEEDED]


@time_limit()
async def test_a_sink_of_runs_in_flight_gets_no_start_of_a_run_that_ended_in_the_batch(
    app: AioClock, clock: FakeClock
) -> None:
    in_flight, every = Recording(every_start=False), Recording()
    app.add_run_sink(in_flight)
    app.add_run_sink(every)

    @app.task(trigger=Every(seconds=10), name="quick")
    async def quick() -> None: ...

    @app.task(trigger=Every(seconds=10), name="slow")
    async def slow() -> None:
        await clock.sleep(3)

    async with serving(app):
        await clock.advance(seconds=15)  # both fire at 10 s; the slow one ends at 13 s

    def seen(sink: Recording) -> list[tuple[str, RunOutcome | None]]:
        return [(name, outcome) for call, runs in sink.calls for name, _, outcome in runs]

    ok = RunOutcome.SUCCEEDED
    # The quick run started and ended within one batch: its end alone. The slow one was
    # still going when the batch left: its start, then (a later batch) its end.
    assert sorted(seen(in_flight), key=str) == sorted(
        [("quick", ok), ("slow", None), ("slow", ok)], key=str
    )
    assert seen(in_flight).index(("slow", None)) < seen(in_flight).index(("slow", ok))
    assert sorted(seen(every), key=str) == sorted(
        [("quick", None), ("quick", ok), ("slow", None), ("slow", ok)], key=str
    )
    assert [call for call, _ in in_flight.calls][-1] == "idle"


@time_limit()
async def test_a_sink_that_only_keeps_finished_runs_gets_no_started_record(
    app: AioClock, clock: FakeClock
) -> None:
    sink = Recording(started=False)
    app.add_run_sink(sink)

    @app.task(trigger=Once(), name="once")
    async def once() -> None: ...

    async with serving(app):
        await clock.settle()
    assert [r.outcome for r in sink.records] == [RunOutcome.SUCCEEDED]


@time_limit()
async def test_a_raising_sink_is_logged_and_breaks_nothing(
    app: AioClock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(RunSink):
        def deliver(self, runs: Sequence[RunRecord]) -> None:
            raise RuntimeError("sink bug")

    good = Recording(started=False)
    app.add_run_sink(Broken())
    app.add_run_sink(good)

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=30)
    assert len(good.records) == 3
    assert "Run sink" in caplog.text and "sink bug" in caplog.text


@time_limit()
async def test_closing_the_subscription_stops_delivery(app: AioClock, clock: FakeClock) -> None:
    sink = Recording(started=False)
    subscription = app.add_run_sink(sink)

    @app.task(trigger=Every(seconds=10), name="tick")
    async def tick() -> None: ...

    async with serving(app):
        await clock.advance(seconds=20)
        subscription.close()
        await clock.advance(seconds=20)
    assert len(sink.records) == 2


def test_only_a_run_sink_can_be_added(app: AioClock) -> None:
    with pytest.raises(TypeError, match="RunSink"):
        app.add_run_sink(print)  # type: ignore[arg-type]


@time_limit()
async def test_a_record_holds_outcome_error_result_and_the_runs_own_logs(
    app: AioClock, clock: FakeClock
) -> None:
    sink = Recording(started=False)
    app.add_run_sink(sink)

    @app.task(trigger=Every(seconds=10), name="answer")
    async def answer() -> dict[str, int]:
        log.warning("computing %d", 42)
        return {"answer": 42}

    @app.task(trigger=Every(seconds=10), name="broken")
    async def broken() -> None:
        log.warning("about to fail")
        raise ValueError("no")

    async with serving(app):
        await clock.advance(seconds=10)

    by_name = {r.task_name: r for r in sink.records}
    good, bad = by_name["answer"], by_name["broken"]
    assert good.outcome is RunOutcome.SUCCEEDED and not good.failed
    assert good.result == "{'answer': 42}"
    assert [(line.level, line.message) for line in good.logs] == [("WARNING", "computing 42")]
    assert good.logs[0].at == good.started_at  # the fake clock did not move during the run
    assert good.kind is RunKind.SCHEDULE and good.attempt == 1
    assert good.ended_at == good.started_at + timedelta(seconds=good.duration or 0)
    assert bad.outcome is RunOutcome.FAILED and bad.failed
    assert bad.error == "ValueError: no" and bad.result is None
    assert bad.traceback is not None and "ValueError: no" in bad.traceback
    assert bad.logs[0].message == "about to fail"
    assert any("Task broken failed" in line.message for line in bad.logs)
    snapshot = app.snapshot("broken")
    assert snapshot.last_run == bad and snapshot.failure_count == 1


@time_limit()
async def test_a_run_keeps_a_bounded_number_of_log_lines_and_says_how_many_it_dropped(
    app: AioClock, clock: FakeClock
) -> None:
    sink = Recording(started=False)
    app.add_run_sink(sink)

    @app.task(trigger=Once(), name="chatty")
    def chatty() -> str:
        for number in range(MAX_LOG_LINES + 50):
            log.warning("line %d", number)
        return "x" * 5000

    async with serving(app):
        await clock.settle()
    (record,) = sink.records
    assert len(record.logs) == MAX_LOG_LINES + 1
    assert record.logs[MAX_LOG_LINES - 1].message == f"line {MAX_LOG_LINES - 1}"
    assert record.logs[-1].message.startswith("50 lines dropped")
    assert record.result is not None and len(record.result) <= MAX_RESULT_CHARS


def test_a_record_is_frozen_and_keyword_only() -> None:
    record = _record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.outcome = RunOutcome.FAILED  # type: ignore[misc]
    with pytest.raises(TypeError):
        RunRecord(record.run_id)  # type: ignore[misc]


def test_a_record_survives_its_json_form() -> None:
    record = _record()
    assert run_from_json(run_to_json(record)) == record


def _record() -> RunRecord:
    from datetime import datetime, timezone
    from uuid import uuid4

    from aioclock_core.runs import LogLine

    at = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
    return RunRecord(
        run_id=uuid4(),
        task_id=uuid4(),
        task_name="t",
        kind=RunKind.RETRY,
        scheduled_for=at,
        started_at=at,
        ended_at=at + timedelta(seconds=1.5),
        duration=1.5,
        outcome=RunOutcome.TIMED_OUT,
        error_type="TaskTimeoutError",
        error_message="late",
        result="3",
        attempt=2,
        replica="r1",
        logs=(LogLine(at=at, level="INFO", message="hello"),),
    )


@pytest.mark.parametrize(
    ("outcome", "failure"),
    [
        (RunOutcome.SUCCEEDED, False),
        (RunOutcome.CANCELLED, False),
        (RunOutcome.FAILED, True),
        (RunOutcome.TIMED_OUT, True),
        (RunOutcome.INTERRUPTED, True),
        (RunOutcome.ABANDONED, True),
    ],
)
def test_which_outcomes_count_as_failures(outcome: RunOutcome, failure: bool) -> None:
    assert outcome.is_failure is failure


@pytest.mark.parametrize(
    ("running", "paused", "finished", "state"),
    [
        (1, True, True, TaskState.RUNNING),
        (0, True, True, TaskState.FINISHED),
        (0, True, False, TaskState.PAUSED),
        (0, False, False, TaskState.IDLE),
    ],
)
def test_a_tasks_state_follows_one_precedence(
    running: int, paused: bool, finished: bool, state: TaskState
) -> None:
    assert task_state(running=running, paused=paused, finished=finished) is state


@time_limit()
async def test_run_events_carry_the_record(app: AioClock, clock: FakeClock) -> None:
    seen: list[object] = []
    app.subscribe(seen.extend, on_loop=True, kinds=[RunStarted, RunFinished])

    @app.task(trigger=Once(), name="once")
    async def once() -> int:
        return 7

    async with serving(app):
        await clock.settle()
    started, finished = seen
    assert isinstance(started, RunStarted) and isinstance(finished, RunFinished)
    assert started.run.run_id == finished.run.run_id and finished.run.result == "7"
    assert finished.task_name == "once" and finished.at == finished.run.ended_at


def test_the_engines_finished_record_equals_the_public_constructors() -> None:
    import uuid
    from datetime import datetime, timezone

    from aioclock_core._entry import Run

    at = datetime(2026, 12, 2, tzinfo=timezone.utc)
    run = Run(uuid.uuid4(), "t", uuid.uuid4(), RunKind.RETRY, at, lambda: at, "r1", 3)
    run.started_at, run.duration, run.outcome = at, 1.5, RunOutcome.FAILED
    run.error_type, run.error_message, run.traceback, run.result = "E", "m", "tb", [1, 2]
    record = run.finished_record()
    expected = RunRecord(
        run_id=run.run_id,
        task_id=run.task_id,
        task_name="t",
        kind=RunKind.RETRY,
        scheduled_for=at,
        started_at=at,
        ended_at=at + timedelta(seconds=1.5),
        duration=1.5,
        outcome=RunOutcome.FAILED,
        error_type="E",
        error_message="m",
        traceback="tb",
        result="[1, 2]",
        attempt=3,
        replica="r1",
    )
    assert record == expected and type(record) is RunRecord
    assert run.started_record() == RunRecord(
        run_id=run.run_id,
        task_id=run.task_id,
        task_name="t",
        kind=RunKind.RETRY,
        scheduled_for=at,
        started_at=at,
        attempt=3,
        replica="r1",
    )
    assert [f.name for f in dataclasses.fields(RunRecord)] == [
        "run_id",
        "task_id",
        "task_name",
        "kind",
        "scheduled_for",
        "started_at",
        "ended_at",
        "duration",
        "outcome",
        "error_type",
        "error_message",
        "traceback",
        "result",
        "attempt",
        "replica",
        "logs",
    ]  # fmt: skip  (a new field must be set by Run.finished_record too)


def test_a_run_id_is_the_uuid_its_number_makes() -> None:
    first, second = new_run_id(), new_run_id()
    made = UUID(int=first.int)
    assert first == made and hash(first) == hash(made) and str(first) == str(made)
    assert first.is_safe is made.is_safe and first.version == made.version
    assert pickle.loads(pickle.dumps(first)) == first
    assert second.int == (first.int + 1) % (1 << 128) and second != first
