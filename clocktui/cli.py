"""The `clocktui` command: parse arguments, load the app, run it; decide the exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from clocktui import __version__

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_USER_ERROR = 1
"""The user's code raised (importing the module, the factory, or serving)."""
EXIT_USAGE = 2
"""The target could not be loaded: bad format, not found, not an app."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also the source of `--help`)."""
    parser = argparse.ArgumentParser(
        prog="clocktui",
        description="A live console for an aioclock_core app: see every task, its next "
        "run and its last outcome; run, pause and cancel with one key.",
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
    parser.add_argument("--version", action="version", version=f"clocktui {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from clocktui.loader import LoadError, UserCodeError, load_app

    try:
        app = load_app(args.target, app_dir=args.app_dir, factory=args.factory)
    except LoadError as error:
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UserCodeError as error:
        print(error.user_traceback, end="", file=sys.stderr)
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR

    if args.headless:
        from clocktui.headless import serve_headless

        host = serve_headless(app, paused=args.paused)
    else:
        from clocktui.app import make_app

        console = make_app(app, paused=args.paused, handle_signals=True)
        console.run()
        host = console.host
    if host.error is not None:
        print(host.error_traceback or "", end="", file=sys.stderr)
        print(f"clocktui: error: the app stopped with {host.error!r}", file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK
