"""The benchmark report: its "Where we lose" lines come from the numbers, references apart,
and a partial rerun puts its sections, peers and lines into the report it updates."""

from __future__ import annotations

from tests.benchmarks.losses import PYDANTIC_FLOOR_LINE, where_we_lose
from tests.benchmarks.plan import build_plan
from tests.benchmarks.report import render, splice
from tests.benchmarks.results import CaseResult, RunRecord
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


def record_of(*results: CaseResult, versions: dict[str, str]) -> RunRecord:
    return RunRecord({"cores (nproc)": "2"}, versions, "full", "2026-12-08 04:00", 60.0, [*results])


def test_a_partial_rerun_adds_a_peer_the_report_lacked_and_renews_its_floor_line() -> None:
    old = {"ours": "0.4.0", "apscheduler3": "3.11.3"}
    previous = render(record_of(first_run(ours=150.0, apscheduler3=80.0), versions=old))
    assert "floor + one pydantic model" not in previous
    new = {**old, "pydantic_floor": "2.14.4"}
    rerun = record_of(first_run(ours=140.0, apscheduler3=76.0, pydantic_floor=120.0), versions=new)
    report = splice(previous, rerun)
    assert "| floor + one pydantic model | 2.14.4 |" in report
    assert "spawn to first run 140 ms vs APScheduler 3.11 76 ms" in report
    assert "150 ms" not in report.split("## Where we lose")[1]
    again = splice(
        report,
        record_of(first_run(ours=130.0, apscheduler3=76.0, pydantic_floor=110.0), versions=new),
    )
    floor_lines = [line for line in again.split("\n") if line.startswith(PYDANTIC_FLOOR_LINE)]
    assert floor_lines == [PYDANTIC_FLOOR_LINE + "spawn to first run ours 130 ms vs 110 ms."]
    rows = [line for line in again.split("\n") if line.startswith("| floor + one pydantic")]
    assert len(rows) == 1  # its row among the schedulers, renewed, not added twice
