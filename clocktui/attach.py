"""`clocktui attach TARGET`: the console of an app that runs elsewhere, running no task.

TARGET is a control socket's path, an app's name (its socket in the default folder), or
`redis://…?app=NAME` for every replica of an app. The console is the same `ClockConsole`
as `clocktui run`'s, fed by a `SocketSource` or a `FleetSource`.
"""

from __future__ import annotations

import sys
from datetime import tzinfo
from pathlib import Path

from aioclock_core._clock import Clock
from clocktui.app import ClockConsole
from clocktui.redis_reader import split_app
from clocktui.socket_access import ControlSocketError, default_socket_path
from clocktui.sources.base import Source

__all__ = ["AttachError", "source_for", "attach_console", "run_attach"]

_REDIS_SCHEMES = ("redis://", "rediss://")


class AttachError(Exception):
    """TARGET names nothing to attach to; the message says what to do."""


def source_for(
    target: str,
    *,
    app_name: str | None = None,
    read_only: bool = False,
    clock: Clock | None = None,
) -> Source:
    """The source TARGET names (nothing is connected yet).

    Raises:
        AttachError: A Redis URL without an app name, or a malformed URL.
    """
    if target.startswith(_REDIS_SCHEMES):
        from clocktui.sources.fleet import FleetSource

        url, named = split_app(target)
        name = app_name or named
        if not name:
            raise AttachError(
                f"{target}: which app? Add ?app=NAME to the URL (the name given to "
                "AioClock(name=...)), or pass --app NAME."
            )
        try:
            return FleetSource(url, name, clock=clock)
        except ValueError as error:
            raise AttachError(str(error)) from None
    if "://" in target:
        raise AttachError(
            f"{target}: attach to a socket path, an app's name, or a redis:// URL "
            "(e.g. redis://localhost:6379/0?app=billing)"
        )
    from clocktui.sources.socket_client import SocketSource

    return SocketSource(socket_path_of(target), read_only=read_only, clock=clock)


def socket_path_of(target: str) -> Path:
    """A path as given; a bare name (no `/`, no `.sock`) is an app's default socket."""
    if "/" in target or target.endswith(".sock"):
        return Path(target)
    return default_socket_path(target)


def attach_console(
    source: Source,
    *,
    read_only: bool = False,
    display_tz: tzinfo | None = None,
    handle_signals: bool = False,
    redraw_interval: float = 0.25,
) -> ClockConsole:
    """The console of `source` (used by the CLI and the tests)."""
    return ClockConsole(
        source,
        display_tz=display_tz,
        handle_signals=handle_signals,
        redraw_interval=redraw_interval,
        read_only=read_only,
    )


def run_attach(target: str, *, app_name: str | None = None, read_only: bool = False) -> int:
    """The attach command's entry point; returns the exit code. A socket that cannot be
    reached is an error before any screen (a lost connection later is retried)."""
    from clocktui.cli import EXIT_OK, report

    try:
        source = source_for(target, app_name=app_name, read_only=read_only)
        if app_name is not None and not target.startswith(_REDIS_SCHEMES):
            raise AttachError(f"--app {app_name}: only a redis:// TARGET takes --app")
        from clocktui.sources.socket_client import SocketSource, probe

        if isinstance(source, SocketSource):
            source.name = probe(source.path) or source.name
    except (AttachError, ControlSocketError) as error:
        return report(error)
    console = attach_console(source, read_only=read_only, handle_signals=True)
    code = console.run()
    print(f"clocktui: detached from {source.name} ({source.where}); it goes on", file=sys.stderr)
    return EXIT_OK if code is None else code
