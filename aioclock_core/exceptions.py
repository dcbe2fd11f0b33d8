"""Exceptions raised by aioclock_core (names match aioclock 0.3)."""

from __future__ import annotations

__all__ = [
    "BaseAioClockException",
    "TaskIdNotFound",
    "TaskTimeoutError",
    "DuplicateTaskError",
    "SchedulerNotRunningError",
    "WorkerProcessDied",
]


class BaseAioClockException(Exception):
    """Base exception for aioclock_core."""


class TaskIdNotFound(BaseAioClockException):
    """No task with the given id (or name) is registered in the app."""


class TaskTimeoutError(BaseAioClockException, TimeoutError):
    """A run lasted longer than its task's timeout and was cancelled."""


class DuplicateTaskError(BaseAioClockException, ValueError):
    """Two tasks were registered under one name (and so one id)."""


class SchedulerNotRunningError(BaseAioClockException, RuntimeError):
    """A control call needs a running scheduler, and the app is not serving."""


class WorkerProcessDied(BaseAioClockException, RuntimeError):
    """The worker process running a process task's body exited before answering (killed
    from outside, out of memory, a crash in a C extension)."""
