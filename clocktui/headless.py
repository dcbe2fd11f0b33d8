"""Headless mode: the same host without a screen, logging to stderr, stopped by signals."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from aioclock_core import AioClock
from aioclock_core.logs import install_run_context
from clocktui.formatting import inert
from clocktui.host import Host
from clocktui.restart_summary import MissedWhileStopped

if TYPE_CHECKING:
    from clocktui.control_server import ControlServer

__all__ = ["serve_headless", "LOG_FORMAT"]

LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s%(aioclock_task_label)s: %(message)s"
"""`aioclock_task_label` is ` [task name]` for records logged during a run, else empty."""


class _RunAwareFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        name = getattr(record, "aioclock_task_name", None)
        record.aioclock_task_label = f" [{name}]" if name else ""
        return inert(super().format(record), multiline=True)  # user text, to a terminal


logger = logging.getLogger("clocktui")


class _Abandoned(Exception):
    """Raised by the third signal's handler to stop waiting for the host."""


def serve_headless(
    app: AioClock, *, paused: bool = False, control: ControlServer | None = None
) -> Host:
    """Serve `app` until its triggers are exhausted or SIGINT/SIGTERM; returns the host
    (its `error` says whether serve() failed). A second signal cancels running runs but
    still runs the shutdown steps; a third returns at once (`host.abandoned`).
    `control`: a control socket to serve while the app runs (`clocktui attach`)."""
    install_run_context()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(_RunAwareFormatter(LOG_FORMAT))
    missed = MissedWhileStopped.attach(stderr, app.clock.now())
    logging.basicConfig(level=logging.INFO, handlers=[stderr])
    host = Host(app, paused=paused, control=control)
    signals = 0

    def on_signal(number: int, _: FrameType | None) -> None:
        nonlocal signals
        signals += 1
        name = signal.Signals(number).name
        if signals == 1:
            logger.info(
                "%s received: stopping gracefully (running runs get %g s; a second signal "
                "cancels them now)",
                name,
                app.shutdown_grace,
            )
            host.request_stop()
        elif signals == 2:
            logger.warning("Second %s: stopping now (a third signal exits at once)", name)
            host.request_stop()
        else:
            host.abandon()
            raise _Abandoned

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, on_signal)
    try:
        host.start()
        # Waiting on a lock is interrupted by signals on POSIX, so the handlers run at
        # once; the timeout only bounds the wait elsewhere (an idle host wakes once a
        # second, not five times).
        while not host.join(1.0):
            pass
    except _Abandoned:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        missed.flush()
    return host
