"""Headless mode: the same host without a screen, logging to stderr, stopped by signals."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from aioclock_core import AioClock
from aioclock_core.logs import install_run_context
from clocktui.host import Host

__all__ = ["serve_headless", "LOG_FORMAT"]

LOG_FORMAT = "%(asctime)s %(levelname)-8s [%(aioclock_task_name)s] %(name)s: %(message)s"

logger = logging.getLogger("clocktui")


def serve_headless(app: AioClock, *, paused: bool = False) -> Host:
    """Serve `app` until its triggers are exhausted or SIGINT/SIGTERM; returns the host
    (its `error` says whether serve() failed). A second signal cancels running runs."""
    install_run_context()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    host = Host(app, paused=paused)
    signals = 0

    def on_signal(number: int, _: FrameType | None) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            logger.info("%s received: stopping gracefully", signal.Signals(number).name)
            host.request_stop()
        else:
            logger.warning("Second signal: cancelling running runs")
            host.force_stop()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, on_signal)
    try:
        host.start()
        while not host.join(0.2):
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return host
