"""Source: the one interface between the console and what it shows (an app in this process,
a headless app's control socket, a Redis fleet). Screens and widgets never know which."""

from __future__ import annotations

import concurrent.futures
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from aioclock_core._clock import SYSTEM_CLOCK, Clock
from clocktui.model import TaskView

if TYPE_CHECKING:
    from aioclock_core.simulation import Simulator
    from clocktui.inbox import Inbox

__all__ = [
    "Source",
    "Verb",
    "TASK_VERBS",
    "SentToFleet",
    "SourceUnavailable",
    "failed_future",
]

T = TypeVar("T")


class Verb(str, Enum):
    """A command the console sends (the control socket's verbs have the same names)."""

    RUN_NOW = "run_now"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    PAUSE_ALL = "pause_all"
    RESUME_ALL = "resume_all"


TASK_VERBS = frozenset({Verb.RUN_NOW, Verb.PAUSE, Verb.RESUME, Verb.CANCEL})
"""Verbs about one task (the others are about every task)."""


class SentToFleet:
    """The answer of a fleet to a command: it went out to every replica, none replies."""


class SourceUnavailable(Exception):
    """The source cannot answer now (not connected, or it cannot do this at all); the
    message says why."""


def failed_future(error: BaseException) -> concurrent.futures.Future[Any]:
    """A future that already failed with `error`."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(error)
    return future


class Source(ABC):
    """What the console reads (tasks, runs as `RunRecord`s, events, log records, next
    firings, history) and what it asks (the `Verb`s). Updates go to the `Inbox` given to
    `start`; questions are answered with futures, never by blocking.

    Args:
        name: The app's name, for the title (a remote source may learn it later).
        where: Where the app is, for the sub-title ("in this process", a socket path…).
        clock: The clock the console's countdowns read (default: the system clock).
    """

    hosts_app: ClassVar[bool] = False
    """Whether the app runs in this process: quitting the console then stops it."""
    shows_replicas: ClassVar[bool] = False
    """Whether the app is a fleet of replicas (the console shows them)."""

    def __init__(self, name: str, where: str, clock: Clock | None = None) -> None:
        self.name = name
        self.where = where
        self.clock: Clock = clock or SYSTEM_CLOCK

    def now(self) -> datetime:
        """The app's time as the console shows it."""
        return self.clock.now()

    def tasks(self) -> list[TaskView]:
        """The tasks known before `start` (a remote source learns them on connecting)."""
        return []

    @abstractmethod
    def start(self, inbox: Inbox) -> None:
        """Start delivering updates to `inbox` (returns at once)."""

    @abstractmethod
    def close(self) -> None:
        """Stop delivering updates and let go of connections (quickly)."""

    @abstractmethod
    def next_fire_times(
        self, tasks: Collection[UUID] | None = None
    ) -> Mapping[UUID, datetime | None]:
        """Each task's next firing as last known (all, or the ids given); cheap, any thread."""

    @abstractmethod
    def load_history(self, task_ids: list[UUID], limit: int) -> None:
        """Read the tasks' newest runs; a `HistoryLoaded` reaches the inbox's target later."""

    @abstractmethod
    def upcoming(self, task_id: UUID, count: int) -> concurrent.futures.Future[list[datetime]]:
        """The task's next `count` firing instants."""

    def simulator(self, tasks: list[UUID]) -> concurrent.futures.Future[Simulator]:
        """Copies of the tasks' live timelines (for the timeline screen)."""
        return failed_future(
            SourceUnavailable(
                "the timeline needs the app's triggers: open it in the app's own console"
            )
        )

    @abstractmethod
    def send(self, verb: Verb, task_id: UUID | None = None) -> concurrent.futures.Future[Any]:
        """Ask the app to do `verb` (to the task `task_id` for `TASK_VERBS`). The future
        holds the app's answer: a run id or None for run_now, whether it changed for
        pause and resume, a count for cancel and the verbs about every task, or
        `SentToFleet`."""

    # ----- the hosted app (only where `hosts_app`) ----------------------------------------
    @property
    def stopped(self) -> bool:
        """Whether the hosted app has stopped (always True without one)."""
        return True

    @property
    def shutdown_grace(self) -> float:
        """Seconds the hosted app gives running runs when it stops."""
        return 0.0

    @property
    def error(self) -> BaseException | None:
        """What the hosted app's serve() raised, if it failed."""
        return None

    def request_stop(self) -> None:  # noqa: B027 - a no-op unless the app is hosted here
        """Ask the hosted app to stop gracefully (no-op without one)."""

    def force_stop(self) -> None:  # noqa: B027 - a no-op unless the app is hosted here
        """Cancel the hosted app's serve() (no-op without one)."""

    def abandon(self) -> None:  # noqa: B027 - a no-op unless the app is hosted here
        """Leave the hosted app's shutdown unfinished (a third quit; no-op without one)."""

    @property
    def abandoned(self) -> bool:
        """Whether `abandon()` gave up on the hosted app's shutdown."""
        return False

    @property
    def history_failure(self) -> BaseException | None:
        """Why the hosted app's store cannot write its history now (None: it can, or no
        app is hosted here)."""
        return None
