"""The task table's filter query: words, group: and is: terms."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from aioclock_core.runs import RunKind, RunOutcome, RunRecord
from clocktui.model import TaskView
from clocktui.task_filter import TaskFilter

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)


def view(name: str, group: str = "", **facts: object) -> TaskView:
    task = TaskView(task_id=uuid4(), name=name, group=group, trigger="every 10 s", timeout=None)
    return replace(task, **facts)  # type: ignore[arg-type]


def run(outcome: RunOutcome, late: float = 0.0) -> RunRecord:
    return RunRecord(
        run_id=uuid4(),
        task_id=uuid4(),
        task_name="x",
        kind=RunKind.SCHEDULE,
        scheduled_for=NOW - timedelta(seconds=30),
        started_at=NOW - timedelta(seconds=30 - late),
        ended_at=NOW,
        duration=1.0,
        outcome=outcome,
    )


TASKS = {
    "export eu": view("nightly export eu-west-1", "reports"),
    "export us": view("nightly export us-east-2", "reports"),
    "failing": view("sync inventory", "stock", last_run=run(RunOutcome.FAILED)),
    "running": view("heartbeat", in_flight={uuid4(): NOW}),
    "paused": view("warm cache", paused=True),
    "late": view("slow report", "reports", last_run=run(RunOutcome.SUCCEEDED, late=5)),
    "overdue": view("stuck", next_fire_time=NOW - timedelta(seconds=10)),
}


@pytest.mark.parametrize(
    ("query", "matching"),
    [
        ("", list(TASKS)),
        ("export", ["export eu", "export us"]),
        ("export EU", ["export eu"]),  # every word, any case
        ('"export eu"', ["export eu"]),  # a quoted phrase
        ("reports", ["export eu", "export us", "late"]),  # a word matches the group too
        ("group:reports", ["export eu", "export us", "late"]),
        ("group:REPORTS nightly", ["export eu", "export us"]),
        ("group:stock group:reports", ["export eu", "export us", "failing", "late"]),
        ("is:failing", ["failing"]),
        ("is:running", ["running"]),
        ("is:paused", ["paused"]),
        ("is:late", ["late", "overdue"]),
        ("is:late group:reports", ["late"]),
        ("is:failing is:paused", []),
        ("is:broken", []),
        ('"unclosed', []),
    ],
)
def test_a_query_matches_the_tasks_that_match_every_term(query: str, matching: list[str]) -> None:
    parsed = TaskFilter.parse(query)
    assert [key for key, task in TASKS.items() if parsed.matches(task, NOW)] == matching


def test_an_unknown_is_term_is_explained() -> None:
    assert TaskFilter.parse("is:broken").explain_no_match() == (
        "Unknown term 'is:broken': try is:failing, is:running, is:paused, is:late or group:NAME"
    )
    assert TaskFilter.parse("zzz").explain_no_match() == "No task matches 'zzz'"


def test_only_is_terms_make_the_match_change_with_runs() -> None:
    assert TaskFilter.parse("is:failing").changes_with_runs
    assert not TaskFilter.parse("group:reports export").changes_with_runs
