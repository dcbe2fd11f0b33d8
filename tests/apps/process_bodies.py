"""Module-level bodies for process-task tests: a worker process imports them by name."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from aioclock_core import Depends

logger = logging.getLogger("fixture.process")


def square(number: int = 7) -> int:
    """Returns a value computed in the worker, and logs from there."""
    logger.warning("squaring %d in process %d", number, os.getpid())
    print("printed by the body")
    return number * number


def report_pid_then_hang() -> None:
    """Logs its process id, then runs far past any test's timeout."""
    logger.warning("pid=%d", os.getpid())
    time.sleep(60)


def fails() -> None:
    raise ValueError("bad row 7")


def settings() -> dict[str, int]:
    return {"rows": 3}


def a_lock() -> Any:
    return threading.Lock()


def with_settings(value: dict[str, int] = Depends(settings)) -> str:
    return f"got {value!r}"


def with_lock(value: Any = Depends(a_lock)) -> str:
    return f"got {value!r}"


async def async_body() -> str:
    return f"async in {os.getpid()}"


def pid() -> int:
    return os.getpid()
