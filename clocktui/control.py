"""Controller: sends the user's commands to the source; answers come back as messages."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any
from uuid import UUID

from textual.message_pump import MessagePump

from aioclock_core.exceptions import SchedulerNotRunningError
from clocktui.inbox import CommandAnswered
from clocktui.model import TaskView
from clocktui.sources.base import SentToFleet, Source, SourceUnavailable, Verb

__all__ = ["Controller", "STEERING_ACTIONS"]

STEERING_ACTIONS = frozenset({"run", "pause", "pause_all", "cancel"})
"""The screens' actions that steer the app: a read-only console hides and refuses them."""

Answer = tuple[str, str]
"""A notification's text and severity."""


class Controller:
    """The console's commands. Never waits: each answer arrives as a `CommandAnswered`.
    A read-only console sends none and says so."""

    def __init__(self, source: Source, target: MessagePump, *, read_only: bool = False) -> None:
        self.source = source
        self.target = target
        self.read_only = read_only

    def run_now(self, view: TaskView) -> None:
        """Start a manual run of the task."""

        def answer(run_id: object) -> Answer:
            if run_id is None:
                return f"{view.name}: not started, it is already running", "warning"
            return f"Started {view.name}", "information"

        self._send(Verb.RUN_NOW, view, answer)

    def pause(self, view: TaskView) -> None:
        """Pause the task."""
        self._send(Verb.PAUSE, view, lambda _: (f"Paused {view.name}", "information"))

    def resume(self, view: TaskView) -> None:
        """Resume the task."""
        self._send(Verb.RESUME, view, lambda _: (f"Resumed {view.name}", "information"))

    def toggle_pause(self, view: TaskView) -> None:
        """Resume the task if paused, else pause it."""
        (self.resume if view.paused else self.pause)(view)

    def pause_all(self) -> None:
        """Pause every task."""
        self._send(Verb.PAUSE_ALL, None, lambda count: (f"Paused {count} task(s)", "information"))

    def resume_all(self) -> None:
        """Resume every paused task."""
        self._send(Verb.RESUME_ALL, None, lambda count: (f"Resumed {count} task(s)", "information"))

    def cancel(self, view: TaskView) -> None:
        """Cancel the task's running runs."""

        def answer(count: int) -> Answer:
            if not count:
                return f"{view.name}: no run to cancel", "warning"
            return f"Cancelled {count} run(s) of {view.name}", "information"

        self._send(Verb.CANCEL, view, answer)

    def _send(self, verb: Verb, view: TaskView | None, answer: Callable[[Any], Answer]) -> None:
        what = verb.value.replace("_", " ") + (f" {view.name}" if view is not None else "")
        if self.read_only:
            self._tell(f"Read-only console: {what} not sent", "warning")
            return
        task_id: UUID | None = None if view is None else view.task_id
        future = self.source.send(verb, task_id)

        def done(future: concurrent.futures.Future[Any]) -> None:
            if future.cancelled():
                return
            error = future.exception()
            if isinstance(error, SchedulerNotRunningError):
                self._tell("The scheduler is not running", "warning")
            elif isinstance(error, SourceUnavailable):
                self._tell(f"{what}: {error}", "warning")
            elif error is not None:
                self._tell(f"{type(error).__name__}: {error}", "error")
            elif isinstance(future.result(), SentToFleet):
                self._tell(f"Sent {what} to every replica", "information")
            else:
                self._tell(*answer(future.result()))

        future.add_done_callback(done)

    def _tell(self, text: str, severity: str) -> None:
        self.target.post_message(CommandAnswered(text, severity))
