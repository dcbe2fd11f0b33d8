"""`clocktui history`: print an app's recent runs from its SQLite file, without serving it."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.stores import RunRecord, SQLiteReader, StoreError
from aioclock_core.task import Task
from clocktui.formatting import format_duration, inert, outcome_word

__all__ = ["build_history_parser", "run_history", "format_table", "UnknownTaskError"]

COLUMNS = ("STARTED", "TASK", "OUTCOME", "DURATION", "ERROR")


class UnknownTaskError(Exception):
    """TASK names no task of the app; the message lists close names."""


def build_history_parser() -> argparse.ArgumentParser:
    """The parser of `clocktui history` (also the source of its --help)."""
    parser = argparse.ArgumentParser(
        prog="clocktui history",
        description="Print an app's recent runs from its history file (the scheduler is "
        "not started: the app is loaded only to learn its name and tasks).",
    )
    parser.add_argument("target", help="the app, as for `clocktui TARGET`")
    parser.add_argument("task", nargs="?", help="only this task (its name or id)")
    parser.add_argument(
        "--db", default=None, metavar="PATH", help="the history file (default: the app's)"
    )
    parser.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="most runs shown (20)"
    )
    parser.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    parser.add_argument("--app-dir", default=None, help="import the module from this directory")
    parser.add_argument("--factory", action="store_true", help="the attribute returns the app")
    return parser


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def find_task(app: AioClock, reference: str) -> Task:
    """The task named `reference`, or whose id it is.

    Raises:
        UnknownTaskError: With close names (or every name) to choose from.
    """
    for task in app.tasks:
        if reference in (task.name, str(task.id)):
            return task
    try:
        wanted = UUID(reference)
    except ValueError:
        wanted = None
    for task in app.tasks:
        if task.id == wanted:
            return task
    names = [task.name for task in app.tasks]
    close = difflib.get_close_matches(reference, names, n=3, cutoff=0.5)
    hint = (
        f"did you mean {' or '.join(repr(n) for n in close)}?"
        if close
        else f"its tasks are {', '.join(repr(n) for n in names) or 'none'}"
    )
    raise UnknownTaskError(f"The app {app.name!r} has no task {reference!r}; {hint}")


def format_table(runs: Sequence[RunRecord]) -> str:
    """Aligned plain-text columns, newest first; times in the machine's local zone."""
    rows = [COLUMNS]
    for run in runs:
        error = ": ".join(part for part in (run.error_type, run.error_message) if part)
        rows.append(
            (
                f"{run.started_at.astimezone():%Y-%m-%d %H:%M:%S}",
                inert(run.task_name),
                outcome_word(run.outcome) or "running",
                format_duration(run.duration),
                inert(error.splitlines()[0]) if error else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def as_json(runs: Sequence[RunRecord]) -> str:
    """A JSON array, one object per run, instants in ISO 8601 (UTC)."""
    return json.dumps(
        [
            {
                "run_id": str(run.run_id),
                "task_id": str(run.task_id),
                "task_name": run.task_name,
                "kind": run.kind.value,
                "scheduled_for": _instant(run.scheduled_for),
                "started_at": _instant(run.started_at),
                "finished_at": _instant(run.finished_at),
                "outcome": None if run.outcome is None else run.outcome.value,
                "duration": run.duration,
                "error_type": run.error_type,
                "error_message": run.error_message,
                "traceback": run.traceback,
                "replica": run.replica,
            }
            for run in runs
        ],
        indent=2,
    )


def run_history(argv: Sequence[str]) -> int:
    """Run `clocktui history`; returns the exit code."""
    from clocktui.cli import EXIT_OK, EXIT_USAGE, load_or_report
    from clocktui.storage import HistoryOptionError, history_path

    args = build_history_parser().parse_args(argv)
    app = load_or_report(args.target, args.app_dir, args.factory)
    if isinstance(app, int):
        return app
    try:
        task_ids = None if args.task is None else [find_task(app, args.task).id]
        with SQLiteReader(history_path(app, args.db), app.name) as reader:
            runs = reader.recent_runs(task_ids, args.limit)
    except (StoreError, HistoryOptionError, UnknownTaskError) as error:
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(as_json(runs) if args.json else format_table(runs))
    return EXIT_OK
