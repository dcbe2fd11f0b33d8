"""`clocktui simulate`: JSON lines, the summary table, warnings and errors, with no body run."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aioclock_core.stores import SQLiteStore
from aioclock_core.testing import FakeClock, serving
from clocktui.cli import main
from tests.apps import simulate_app
from tests.core.test_docs import fences

APPS = Path(__file__).parent.parent / "apps"
TARGET = "simulate_app:app"
SPRING = "2026-03-28T00:00Z"
"""Two days from here hold Europe/Berlin's spring-forward night."""


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["simulate", TARGET, "--app-dir", str(APPS), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_parse_one_per_firing_in_time_order_then_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = simulate(capsys, "--start", SPRING, "--days", "2", "--json")
    assert (code, err) == (0, "")
    *firings, last = [json.loads(line) for line in out.splitlines()]
    assert all(set(line) == {"task", "at", "local"} for line in firings)
    instants = [datetime.fromisoformat(line["at"]) for line in firings]
    assert instants == sorted(instants)
    assert all(instant.utcoffset() == timedelta(0) for instant in instants)
    for line in firings:  # the same instant, in the task's own zone
        assert datetime.fromisoformat(line["local"]) == datetime.fromisoformat(line["at"])
    berlin = [line["local"] for line in firings if line["task"] == "berlin nightly"]
    assert berlin == ["2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00"]
    summary = last["summary"]
    assert summary["firings"] == len(firings)
    assert {task["task"] for task in summary["tasks"]} == {
        task.name for task in simulate_app.app.tasks
    }


@pytest.mark.parametrize(
    ("start", "days"),
    [("2026-10-24T00:00Z", "2"), ("2026-03-07T12:00Z", "2"), ("2026-10-31T12:00Z", "2")],
    ids=["Berlin fall back", "New York spring forward", "New York fall back"],
)
def test_the_json_lines_are_the_firings_serving_the_app_on_a_fake_clock_gives(
    capsys: pytest.CaptureFixture[str], start: str, days: str
) -> None:
    code, out, _ = simulate(capsys, "--start", start, "--days", days, "--json")
    assert code == 0
    simulated = [(line["task"], line["at"]) for line in map(json.loads, out.splitlines()[:-1])]

    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    clock = FakeClock(start=begin)
    fired: list[tuple[str, str]] = []

    def recorder(name: str) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            fired.append((name, clock.now().isoformat()))

        return record

    async def serve() -> None:
        app = simulate_app.make(recorder, clock=clock, lifespan=None)
        async with serving(app):
            await clock.advance_to(begin + timedelta(days=float(days)) - timedelta.resolution)

    asyncio.run(asyncio.wait_for(serve(), 30))
    assert sorted(simulated) == sorted(entry for entry in fired if entry[0] != "legacy")


def test_no_body_or_lifespan_runs_and_the_help_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = simulate(capsys, "--start", SPRING)
    assert (code, err) == (0, "")
    assert "no task body or lifespan ran" in out
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    assert "no task body and no lifespan runs" in " ".join(capsys.readouterr().out.split())


def test_the_table_marks_the_dst_changes_of_each_tasks_zone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = simulate(capsys, "--start", SPRING, "--days", "2")
    lines = out.splitlines()
    berlin = next(i for i, line in enumerate(lines) if line.startswith("berlin nightly"))
    assert lines[berlin + 1].split() == [
        *"DST 2026-03-29 02:00 -> 03:00 Europe/Berlin: clocks spring forward".split(),
        *"1 h 00 m (+01:00 -> +02:00)".split(),
    ]
    new_york = next(i for i, line in enumerate(lines) if line.startswith("new york repeat"))
    assert "DST" not in lines[new_york + 1]  # New York changed two weeks before


def test_tasks_that_cannot_be_simulated_are_listed_not_guessed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = simulate(capsys, "--start", SPRING)
    listed = out.split("Not simulated:\n")[1].splitlines()[0]
    assert listed.split()[0] == "legacy" and "WaitsOnItsOwn waits on its own" in listed


def test_instants_where_many_tasks_fire_together_are_a_herd_with_a_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = simulate(capsys, "--start", SPRING, "--days", "1", "--herd", "3")
    assert "287 instants where more than 3 tasks fire at once (a herd)" in out
    assert "2026-03-28 01:30:00+00:00  5 tasks: berlin nightly, slow poll, tick a," in out
    assert "Spread them with jitter" in out


def test_a_task_whose_median_run_outlasts_its_period_is_warned_about(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(start=datetime(2026, 3, 1, tzinfo=timezone.utc))

    async def slow() -> None:
        await clock.sleep(90)

    async def write_history() -> None:
        app = simulate_app.make(lambda _: slow, clock=clock, store=SQLiteStore(path), lifespan=None)
        async with serving(app, grace=600):
            await clock.advance(minutes=10)

    asyncio.run(asyncio.wait_for(write_history(), 30))
    code, out, _ = simulate(capsys, "--start", SPRING, "--db", str(path))
    assert code == 0
    assert (
        "slow poll: its median run (1 m 30 s) is longer than the 1 m 00 s between its "
        "firings, so firings will be skipped as overlapping" in " ".join(out.split())
    )
    assert "tick a: its median run" not in out  # its runs (90 s) fit in its 5 minutes


def test_only_the_tasks_asked_for_are_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = simulate(
        capsys, "--start", SPRING, "--task", "tick a", "--task", "legacy", "--json"
    )
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert [task["task"] for task in summary["tasks"]] == ["tick a", "legacy"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "argument --days: expected a number of days > 0, e.g. 7, got '0'"),
        (["--days", "-2"], "argument --days: expected a number of days > 0, e.g. 7, got '-2'"),
        (["--days", "a week"], "expected a number of days > 0, e.g. 7, got 'a week'"),
        (["--start", "tomorrow"], "argument --start: expected an ISO-8601 date or instant"),
        (["--task", "tick d"], "The app 'simulated' has no task 'tick d'; did you mean"),
        (["--herd", "0"], "argument --herd: expected a whole number >= 1, got '0'"),
        (["--days", "5000000"], "--days 5e+06 from 2026-03-28 00:00:00+00:00 ends past the"),
        (["--days", "9000"], "passes 2,000,000 firings by 2028-12-14 00:00:00+00:00: pass"),
        (["--db", "missing.sqlite3"], "No history database at missing.sqlite3"),
    ],
)
def test_a_bad_option_is_an_error_naming_the_value_without_a_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code, _, err = simulate(capsys, "--start", SPRING, *args)
    except SystemExit as exit:  # argparse: usage, then the error
        code, err = int(str(exit.code)), capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_the_guides_commands_print_what_it_shows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = Path(__file__).parent.parent.parent / "docs" / "simulate.md"
    blocks = list(fences(guide))
    app_source = next(code for language, _, code in blocks if language == "python")
    (tmp_path / "reports.py").write_text(app_source, encoding="utf-8")
    monkeypatch.delitem(sys.modules, "reports", raising=False)
    shown = [code for language, _, code in blocks if language == "console"]
    assert len(shown) == 2
    for block in shown:
        command, _, output = block.partition("\n")
        program, *args = shlex.split(command.removeprefix("$ "))
        assert program == "clocktui"
        assert main([*args, "--app-dir", str(tmp_path)]) == 0
        assert capsys.readouterr().out == output
