"""`clocktui history`: print an app's recent runs from its SQLite file or its Redis store,
without serving it."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
from collections.abc import Sequence
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.runs import RunRecord, run_to_json
from aioclock_core.stores import SQLiteReader, StoreError
from aioclock_core.task import Task
from clocktui.formatting import align_columns, format_duration, inert, outcome_word

__all__ = ["add_history_arguments", "run_history", "format_table", "find_task", "UnknownTaskError"]

COLUMNS = ("STARTED", "TASK", "OUTCOME", "DURATION", "ERROR")


class UnknownTaskError(Exception):
    """TASK names no task of the app; the message lists close names."""


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `clocktui history` after TARGET (see `clocktui.cli`)."""
    parser.add_argument("task", nargs="?", help="only this task (its name or id)")
    parser.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="the history file, or a redis:// URL (default: the app's own store, else its "
        "history file)",
    )
    parser.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="most runs shown (20)"
    )
    parser.add_argument("--json", action="store_true", help="a JSON array instead of a table")


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
        error = run.error or ""
        rows.append(
            (
                f"{run.started_at.astimezone():%Y-%m-%d %H:%M:%S}",
                inert(run.task_name),
                outcome_word(run.outcome) or "running",
                format_duration(run.duration),
                inert(error.splitlines()[0]) if error else "",
            )
        )
    return "\n".join(align_columns(rows))


def as_json(runs: Sequence[RunRecord]) -> str:
    """A JSON array, one object per run (`aioclock_core.runs.run_to_json`: instants in
    ISO 8601 UTC, the run's result and its own log lines included)."""
    return json.dumps([run_to_json(run) for run in runs], indent=2)


def run_history(args: argparse.Namespace) -> int:
    """Run `clocktui history` with the parsed arguments; returns the exit code."""
    from clocktui.cli import EXIT_OK, load_or_report, report
    from clocktui.storage import HistoryOptionError, history_path

    app = load_or_report(args.target, args.app_dir, args.factory)
    if isinstance(app, int):
        return app
    try:
        task_ids = None if args.task is None else [find_task(app, args.task).id]
        url = redis_url(app, args.db)
        if url is not None:
            runs = asyncio.run(read_redis(url, app.name, task_ids, args.limit))
        else:
            with SQLiteReader(history_path(app, args.db), app.name) as reader:
                runs = reader.recent_runs(task_ids, args.limit)
    except (StoreError, HistoryOptionError, UnknownTaskError, ValueError) as error:
        return report(error)
    print(as_json(runs) if args.json else format_table(runs))
    return EXIT_OK


def redis_url(app: AioClock, db: str | None) -> str | None:
    """The Redis URL to read: `db` if it is one, else the app's own RedisStore's (None:
    the history is in a SQLite file)."""
    if db is not None:
        return db if db.startswith(("redis://", "rediss://", "unix://")) else None
    try:
        from aioclock_core.stores.redis import RedisStore
    except ImportError:  # no redis-py: the app cannot have a RedisStore either
        return None
    return app.store.url if isinstance(app.store, RedisStore) else None


async def read_redis(
    url: str, app_name: str, task_ids: list[UUID] | None, limit: int
) -> list[RunRecord]:
    """The newest runs an app's replicas wrote to Redis (read only: nothing is written).

    Raises:
        StoreError: Redis cannot be reached.
    """
    from clocktui.redis_reader import REDIS_TROUBLE, RedisReader, split_app

    plain, named = split_app(url)
    reader = RedisReader(plain, named or app_name)
    try:
        if task_ids is None:
            return await reader.recent_runs(None, limit)
        found = await asyncio.gather(*(reader.recent_runs(t, limit) for t in task_ids))
        runs = sorted((r for runs in found for r in runs), key=lambda r: r.started_at)
        return runs[::-1][:limit]
    except REDIS_TROUBLE as error:
        raise StoreError(
            f"Cannot reach Redis at {reader.where} ({error or type(error).__name__}): start "
            "the server, or pass --db with the right URL."
        ) from None
    finally:
        await reader.close()
