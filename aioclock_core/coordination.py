"""Coordination of replicas: who runs a firing, shared control, and what to do when the
coordinator (e.g. Redis) is unreachable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from aioclock_core.task import Task

__all__ = [
    "Coordinator",
    "Claim",
    "ControlCommand",
    "CommandKind",
    "UnavailablePolicy",
]


class UnavailablePolicy(str, Enum):
    """What a replica does with a firing when it cannot reach the coordinator."""

    SKIP = "skip"
    """Skip the firing and report it (default: nothing can run twice)."""
    RUN = "run"
    """Run it locally anyway (nothing is lost, but replicas may run it twice)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to "may this replica run this firing?".

    `won` is True for the one replica that runs it. Otherwise `holder` names the
    replica that claimed it first, or `error` says why the coordinator could not answer.
    """

    won: bool
    holder: str | None = None
    error: str | None = None


class CommandKind(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    RUN_NOW = "run_now"
    PAUSE_ALL = "pause_all"
    RESUME_ALL = "resume_all"


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """A control request shared by every replica. `request_id` makes run-now once-only:
    every replica tries to claim it, one wins and runs it."""

    kind: CommandKind
    task_id: UUID | None
    request_id: UUID
    origin: str


CommandHandler = Callable[[ControlCommand], Awaitable[None]]


class Coordinator(ABC):
    """Lets several replicas of one app act as one: each firing runs exactly once.

    The app calls `start` once serving begins (with a handler for commands from other
    replicas or consoles), `claim` before every run, `broadcast` after every local
    control call, and `stop` at shutdown. `claim` must never raise: trouble is a
    `Claim(won=False, error=...)`, and the app's policy decides.
    """

    replica: str
    policy: UnavailablePolicy = UnavailablePolicy.SKIP

    @abstractmethod
    async def start(
        self, app_name: str, on_command: CommandHandler, tasks: Sequence[Task] = ()
    ) -> None:
        """Connect, announce the app's `tasks` (for attached consoles) and listen for
        commands; must not raise if the server is down."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop listening and release connections."""

    @abstractmethod
    async def claim(self, task_id: UUID, key: str, ttl: float) -> Claim:
        """Claim (task, key) for `ttl` seconds; `key` is the firing instant (ISO) or a
        manual run's request id."""

    @abstractmethod
    async def broadcast(self, command: ControlCommand) -> None:
        """Tell every replica (and attached consoles) about a control call."""


def firing_key(instant: datetime) -> str:
    """The claim key of a scheduled firing: its instant, the same on every replica."""
    return instant.isoformat()
