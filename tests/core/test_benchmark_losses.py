"""The benchmark report's "Where we lose" lines: derived from the numbers, references apart."""

from __future__ import annotations

from tests.benchmarks.losses import where_we_lose
from tests.benchmarks.plan import build_plan
from tests.benchmarks.results import CaseResult
from tests.benchmarks.runner import Outcome


def first_run(**medians: float) -> CaseResult:
    case = next(case for case in build_plan(quick=True, reps=1) if case.workload == "first-run")
    return CaseResult(
        case,
        {peer: [Outcome("ok", {"first_run_ms": ms})] for peer, ms in medians.items()},
    )


def test_the_startup_rows_run_the_pydantic_floor_as_a_reference() -> None:
    plan = build_plan(quick=False, reps=None)
    startup = [case for case in plan if case.family == "startup"]
    assert [case.workload for case in startup] == ["import", "first-run"]
    assert all("pydantic_floor" in case.peers for case in startup)
    assert all("pydantic_floor" not in case.peers for case in plan if case.family != "startup")


def test_a_row_is_lost_against_a_scheduler_never_against_a_floor() -> None:
    lines = where_we_lose(
        [first_run(ours=140.0, apscheduler3=76.0, floor=55.0, pydantic_floor=120.0)]
    )
    assert lines[0] == (
        "- startup-first-run first run: spawn to first run 140 ms vs APScheduler 3.11 76 ms (1.8×)."
    )
    assert lines[-1].endswith("spawn to first run ours 140 ms vs 120 ms.")
    assert len(lines) == 2


def test_a_row_within_the_margin_of_the_best_scheduler_is_not_lost() -> None:
    lines = where_we_lose([first_run(ours=80.0, apscheduler3=76.0, pydantic_floor=60.0)])
    assert lines[0].startswith("- In no measured case is ours behind")
