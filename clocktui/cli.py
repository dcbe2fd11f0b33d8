"""The `clocktui` command: one parser with subcommands; load the app, run it, pick the exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clocktui import __version__

if TYPE_CHECKING:
    from aioclock_core import AioClock

__all__ = ["main", "build_parser", "add_target_arguments", "load_or_report"]

EXIT_OK = 0
EXIT_USER_ERROR = 1
"""The user's code raised (importing the module, the factory, or serving)."""
EXIT_USAGE = 2
"""The target could not be loaded: bad format, not found, not an app."""
EXIT_HISTORY_LOST = 3
"""The app ran, but runs could not be recorded in its history."""
EXIT_ABANDONED = 130
"""A third stop request (signal or quit) left without waiting for the shutdown."""

COMMANDS = ("run", "attach", "history", "simulate")
DEFAULT_COMMAND = "run"
_TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (also the source of `--help`)."""
    parser = argparse.ArgumentParser(
        prog="clocktui",
        description="A live console for an aioclock_core app: see every task, its next "
        "run and its last outcome; run, pause and cancel with one key.",
        epilog="`clocktui TARGET ...` is short for `clocktui run TARGET ...`, and "
        "`clocktui --attach URL --app NAME` for `clocktui attach URL?app=NAME`. "
        "`clocktui COMMAND --help` tells more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"clocktui {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    from clocktui.history import add_history_arguments
    from clocktui.simulate import add_simulate_arguments

    for name, summary, description, arguments, handler in (
        (
            "run",
            "serve an app in the live console, or --headless (the default command)",
            "Serve an app's scheduler in the live console (or without a screen).",
            (add_target_arguments, _add_run_arguments),
            _run,
        ),
        (
            "attach",
            "watch and steer a running app: its control socket, or a Redis fleet",
            "Open the console on an app that runs elsewhere, running no task: a headless "
            "app on this machine through its control socket (a path, or the app's name "
            "for its default socket), or every replica of an app through Redis "
            "(redis://HOST:PORT/DB?app=NAME). Quitting never stops the app. "
            "(`clocktui --attach URL --app NAME` is the same as `clocktui attach URL --app NAME`.)",
            (_add_attach_arguments,),
            _attach,
        ),
        (
            "history",
            "print an app's recent runs from its history file",
            "Print an app's recent runs from its history file (the scheduler is not "
            "started: the app is loaded only to learn its name and tasks).",
            (add_target_arguments, add_history_arguments),
            _history,
        ),
        (
            "simulate",
            "list when every task will fire in the coming days, and what collides",
            "Compute every firing of every task in a window from the triggers alone, on a "
            "fake clock: no task body and no lifespan runs (the app's module is imported, "
            "as for any command). Shows each task's count and first and last firings, the "
            "daylight-saving changes of its zone, tasks whose runs last longer than their "
            "period, and instants where many tasks fire at once.",
            (add_target_arguments, add_simulate_arguments),
            _simulate,
        ),
    ):
        command = commands.add_parser(name, help=summary, description=description)
        for add_arguments in arguments:
            add_arguments(command)
        command.set_defaults(handler=handler)
    return parser


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """TARGET, --app-dir and --factory: how a command finds the app."""
    parser.add_argument(
        "target", help="the app: 'module:attr', 'module' (attr 'app') or 'path/to/file.py:attr'"
    )
    parser.add_argument(
        "--app-dir", default=None, help="import the module from this directory (default: .)"
    )
    parser.add_argument(
        "--factory", action="store_true", help="the attribute is a function returning the app"
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
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
    control = parser.add_mutually_exclusive_group()
    control.add_argument(
        "--socket",
        default=None,
        metavar="PATH",
        help="serve the control socket for `clocktui attach` here (default: "
        "$XDG_RUNTIME_DIR/clocktui/<app name>.sock)",
    )
    control.add_argument(
        "--no-socket", action="store_true", help="serve no control socket (nobody can attach)"
    )
    parser.add_argument(
        "--screenshot-dir",
        default=None,
        metavar="DIR",
        help="where the command palette's Screenshot saves (default: the current directory)",
    )


def _add_attach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="a control socket's path, an app's name (its default socket), or "
        "redis://HOST:PORT/DB?app=NAME for every replica of an app",
    )
    parser.add_argument(
        "--app",
        default=None,
        metavar="NAME",
        help="with a redis:// TARGET: the app's name (AioClock(name=...)), if not in the URL",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="watch only: hide and refuse the keys that run, pause, resume or cancel",
    )


def with_command(argv: Sequence[str]) -> list[str]:
    """`argv` with its subcommand spelled out: today's short spellings are aliases."""
    argv = list(argv)
    if argv[:1] and argv[0] in COMMANDS:
        return argv
    for index, arg in enumerate(argv):
        if arg == "--attach" or arg.startswith("--attach="):
            rest, url = argv[:index] + argv[index + 1 :], arg.partition("=")[2]
            following = argv[index + 1] if index + 1 < len(argv) else "-"
            if arg == "--attach" and not following.startswith("-"):
                url, rest = following, argv[:index] + argv[index + 2 :]
            return ["attach", *([url] if url else []), *rest]
    if not argv or argv[0] in _TOP_LEVEL_OPTIONS:
        return argv
    return [DEFAULT_COMMAND, *argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Run a `clocktui` command; returns the process exit code."""
    args = build_parser().parse_args(with_command(sys.argv[1:] if argv is None else argv))
    handler: Handler = args.handler
    return handler(args)


def load_or_report(target: str, app_dir: str | None, factory: bool) -> AioClock | int:
    """The app, or the exit code after printing why it could not be loaded."""
    from clocktui.loader import LoadAbortedError, LoadError, UserCodeError, load_app

    try:
        return load_app(target, app_dir=app_dir, factory=factory)
    except LoadError as error:
        return report(error)
    except UserCodeError as error:
        print(error.user_traceback, end="", file=sys.stderr)
        print(f"clocktui: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except LoadAbortedError as error:
        print(f"clocktui: {error}", file=sys.stderr)
        return error.exit_code


def report(error: Exception, code: int = EXIT_USAGE) -> int:
    """Print a one-line error the user can act on; returns `code`."""
    print(f"clocktui: error: {error}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    app = load_or_report(args.target, args.app_dir, args.factory)
    if isinstance(app, int):
        return app
    from aioclock_core.stores import StoreError
    from clocktui.storage import HistoryOptionError, use_history_store

    try:
        use_history_store(app, args.db, args.no_history)
    except (StoreError, HistoryOptionError) as error:
        return report(error)

    control = None
    if not args.no_socket:
        from clocktui.control_server import ControlServer
        from clocktui.socket_access import ControlSocketError, default_socket_path

        path = Path(args.socket) if args.socket else default_socket_path(app.name)
        control = ControlServer(path)
        try:
            control.bind()  # fail now, not once the screen is up
        except ControlSocketError as error:
            return report(error)

    if args.headless:
        from clocktui.headless import serve_headless

        host = serve_headless(app, paused=args.paused, control=control)
    else:
        from clocktui.app import ClockConsole
        from clocktui.output_capture import TerminalCapture
        from clocktui.sources.in_process import InProcessSource

        screenshots = Path(args.screenshot_dir).resolve() if args.screenshot_dir else None
        source = InProcessSource(app, paused=args.paused, control=control)
        console = ClockConsole(source, handle_signals=True, screenshot_dir=screenshots)
        with TerminalCapture(console):  # child processes' output goes to the log pane
            console.run()
        host = source.host
    if host.abandoned:
        print(
            "clocktui: left without waiting at the third stop request: the OnShutDown "
            "tasks and the lifespan exit may not have finished",
            file=sys.stderr,
        )
        return EXIT_ABANDONED
    if isinstance(host.error, StoreError):
        return report(host.error)
    if host.error is not None:
        print(host.error_traceback or "", end="", file=sys.stderr)
        return report(RuntimeError(f"the app stopped with {host.error!r}"), EXIT_USER_ERROR)
    store = app.store
    if store.lost or store.failure is not None:
        print(
            f"clocktui: {store.lost} history records could not be written to {store!r}"
            + (f" ({store.failure})" if store.failure is not None else "")
            + ": check that the file and its folder are writable and the disk has room",
            file=sys.stderr,
        )
        return EXIT_HISTORY_LOST
    return EXIT_OK


def _attach(args: argparse.Namespace) -> int:
    from clocktui.attach import run_attach

    return run_attach(args.target, app_name=args.app, read_only=args.read_only)


def _history(args: argparse.Namespace) -> int:
    from clocktui.history import run_history

    return run_history(args)


def _simulate(args: argparse.Namespace) -> int:
    from clocktui.simulate import run_simulate

    return run_simulate(args)
