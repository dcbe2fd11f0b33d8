"""The `clocktui` command: parse arguments, load the app, run it; decide the exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from clocktui import __version__

if TYPE_CHECKING:
    from aioclock_core import AioClock

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_USER_ERROR = 1
"""The user's code raised (importing the module, the factory, or serving)."""
EXIT_USAGE = 2
"""The target could not be loaded: bad format, not found, not an app."""
EXIT_ABANDONED = 130
"""A third stop request (signal or quit) left without waiting for the shutdown."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also the source of `--help`)."""
    parser = argparse.ArgumentParser(
        prog="clocktui",
        description="A live console for an aioclock_core app: see every task, its next "
        "run and its last outcome; run, pause and cancel with one key.",
        epilog="`clocktui history TARGET [TASK]` prints recent runs instead "
        "(see `clocktui history --help`).",
    )
    parser.add_argument(
        "target", help="the app: 'module:attr', 'module' (attr 'app') or 'path/to/file.py:attr'"
    )
    parser.add_argument(
        "--app-dir", default=None, help="import the module from this directory (default: .)"
    )
    parser.add_argument(
        "--factory", action="store_true", help="the attribute is a function returning the app"
    )
    parser.add_argument(
        "--headless", action="store_true", help="serve without a screen, logging to stderr"
    )
    parser.add_argument("--paused", action="store_true", help="start with every task paused")
    history = parser.add_mutually_exclusive_group()
    history.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="keep run history and task state in this SQLite file "
        "(default: $XDG_DATA_HOME/clocktui/<app name>.sqlite3)",
    )
    history.add_argument(
        "--no-history", action="store_true", help="keep history in memory only (lost on exit)"
    )
    parser.add_argument("--version", action="version", version=f"clocktui {__version__}")
    return parser


def load_or_report(target: str, app_dir: str | None, factory: bool) -> AioClock | int:
    """The app, or the exit code after printing why it could not be loaded."""
    from clocktui.loader import LoadAbortedError, LoadError, UserCodeError, load_app

    try:
        return load_app(target, app_dir=app_dir, factory=factory)
    except LoadError as error:
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UserCodeError as error:
        print(error.user_traceback, end="", file=sys.stderr)
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except LoadAbortedError as error:
        print(f"clocktui: {error}", file=sys.stderr)
        return error.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console (or `clocktui history ...`); returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["history"]:
        from clocktui.history import run_history

        return run_history(argv[1:])
    if any(arg == "--attach" or arg.startswith("--attach=") for arg in argv):  # issue 6
        from clocktui.attach import run_attach

        return run_attach(argv)
    args = build_parser().parse_args(argv)
    app = load_or_report(args.target, args.app_dir, args.factory)
    if isinstance(app, int):
        return app
    from aioclock_core.stores import StoreError
    from clocktui.storage import HistoryOptionError, use_history_store

    try:
        use_history_store(app, args.db, args.no_history)
    except (StoreError, HistoryOptionError) as error:
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USAGE

    if args.headless:
        from clocktui.headless import serve_headless

        host = serve_headless(app, paused=args.paused)
    else:
        from clocktui.app import make_app

        console = make_app(app, paused=args.paused, handle_signals=True)
        console.run()
        host = console.host
    if host.abandoned:
        print(
            "clocktui: left without waiting at the third stop request: the OnShutDown "
            "tasks and the lifespan exit may not have finished",
            file=sys.stderr,
        )
        return EXIT_ABANDONED
    if isinstance(host.error, StoreError):
        print(f"clocktui: error: {host.error}", file=sys.stderr)
        return EXIT_USAGE
    if host.error is not None:
        print(host.error_traceback or "", end="", file=sys.stderr)
        print(f"clocktui: error: the app stopped with {host.error!r}", file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK
