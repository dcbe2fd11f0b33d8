"""`clocktui simulate`: every firing of an app's tasks in the coming days, from the triggers
alone (no task body, no lifespan), as a summary with warnings or as JSON lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.simulation import SimulationTooLarge, simulate
from aioclock_core.stores import SQLiteReader, StoreError
from aioclock_core.task import Task
from clocktui.forecast import HERD_SIZE, median
from clocktui.simulation_report import SimulationReport, write_human, write_json_lines

__all__ = ["add_simulate_arguments", "run_simulate", "parse_start", "RUNS_PER_TASK"]

RUNS_PER_TASK = 50
"""Latest runs of each task whose median is its typical run length."""
MAX_FIRINGS = 2_000_000
"""Firings one simulation may hold (about 250 MB); more is refused with a hint."""


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `clocktui simulate` after TARGET (see `clocktui.cli`)."""
    parser.add_argument(
        "--days",
        type=_positive_days,
        default=7.0,
        metavar="N",
        help="length of the window in days, fractions allowed (default 7)",
    )
    parser.add_argument(
        "--start",
        type=parse_start,
        default=None,
        metavar="ISO-8601",
        help="first instant of the window, e.g. 2026-03-28T00:00+01:00 (without an offset: "
        "UTC; default: now). The app is simulated as if it started serving then.",
    )
    parser.add_argument(
        "--task",
        action="extend",
        nargs="+",
        default=None,
        metavar="NAME",
        help="only these tasks (names or ids; repeat or list several)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per firing per line, {"task", "at" (UTC), "local" (in the '
        'task\'s zone)}, in time order, then one {"summary": {...}} object',
    )
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="the history file whose runs give each task's median run length "
        "(default: the app's, when there is one)",
    )
    parser.add_argument(
        "--herd",
        type=_positive_whole,
        default=HERD_SIZE,
        metavar="N",
        help=f"warn about instants where more than N tasks fire at once (default {HERD_SIZE})",
    )


def _positive_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = float("nan")
    if not days > 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of days > 0, e.g. 7, got {text!r}")
    return days


def _positive_whole(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def parse_start(text: str) -> datetime:
    """An ISO-8601 instant (`Z` allowed); without an offset it is read as UTC."""
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO-8601 date or instant such as 2026-03-28 or "
            f"2026-03-28T00:00+01:00, got {text!r}"
        ) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=timezone.utc)


def run_simulate(args: argparse.Namespace) -> int:
    """Run `clocktui simulate` with the parsed arguments; returns the exit code."""
    from clocktui.cli import EXIT_OK, load_or_report, report
    from clocktui.history import UnknownTaskError, find_task
    from clocktui.storage import HistoryOptionError

    app = load_or_report(args.target, args.app_dir, args.factory)
    if isinstance(app, int):
        return app
    try:
        tasks = app.tasks if args.task is None else [find_task(app, name) for name in args.task]
        medians, source = medians_from_history(app, args.db, tasks)
    except (UnknownTaskError, StoreError, HistoryOptionError) as error:
        return report(error)
    start = args.start or app.clock.now()
    try:
        end = start + timedelta(days=args.days)
    except OverflowError:
        return report(ValueError(f"--days {args.days:g} from {start} ends past the year 9999"))
    try:
        simulation = simulate(app, start, end, _unique(tasks), max_firings=MAX_FIRINGS)
    except SimulationTooLarge as error:
        return report(ValueError(f"{error}: pass a smaller --days, or choose tasks with --task"))
    result = SimulationReport(app.name, simulation, medians, source, args.herd)
    write = write_json_lines if args.json else write_human
    write(result, sys.stdout)
    return EXIT_OK


def medians_from_history(
    app: AioClock, db: str | None, tasks: Sequence[Task]
) -> tuple[dict[UUID, float], str]:
    """Each task's median run length from the history file, and where they came from.

    Without `db`, the app's history file is read when there is one.

    Raises:
        StoreError: The file given is missing or unusable.
        HistoryOptionError: `db` was not given and the app's store is not a SQLite file.
    """
    from clocktui.storage import history_path

    path = history_path(app, db)
    if db is None and not Path(path).exists():
        return {}, "unknown: no history file yet"
    with SQLiteReader(path, app.name) as reader:
        runs = reader.recent_runs([task.id for task in tasks], RUNS_PER_TASK * max(1, len(tasks)))
    durations: dict[UUID, list[float | None]] = {}
    for run in runs:  # newest first
        kept = durations.setdefault(run.task_id, [])
        if len(kept) < RUNS_PER_TASK:
            kept.append(run.duration)
    medians = {task_id: median(found) for task_id, found in durations.items()}
    return {task_id: value for task_id, value in medians.items() if value is not None}, (
        f"medians of the latest runs in {path}"
    )


def _unique(tasks: Sequence[Task]) -> list[Task]:
    return list({task.id: task for task in tasks}.values())
