"""Controller: sends the user's commands to the scheduler thread; answers come back as messages."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from textual.message_pump import MessagePump

from aioclock_core import AioClock
from aioclock_core.exceptions import SchedulerNotRunningError
from clocktui.bridge import CommandAnswered
from clocktui.model import TaskView

__all__ = ["Controller"]

T = TypeVar("T")
Answer = tuple[str, str]
"""A notification's text and severity."""


class Controller:
    """The console's commands. Never waits: each answer arrives as a `CommandAnswered`."""

    def __init__(self, app: AioClock, target: MessagePump) -> None:
        self.app = app
        self.target = target

    def run_now(self, view: TaskView) -> None:
        """Start a manual run of the task."""

        def answer(run_id: object) -> Answer:
            if run_id is None:
                return f"{view.name}: not started, it is already running", "warning"
            return f"Started {view.name}", "information"

        self._send(lambda: self.app.threadsafe.run_now(view.task_id), answer)

    def pause(self, view: TaskView) -> None:
        """Pause the task."""
        self._send(
            lambda: self.app.threadsafe.pause(view.task_id),
            lambda _: (f"Paused {view.name}", "information"),
        )

    def resume(self, view: TaskView) -> None:
        """Resume the task."""
        self._send(
            lambda: self.app.threadsafe.resume(view.task_id),
            lambda _: (f"Resumed {view.name}", "information"),
        )

    def toggle_pause(self, view: TaskView) -> None:
        """Resume the task if paused, else pause it."""
        (self.resume if view.paused else self.pause)(view)

    def pause_all(self) -> None:
        """Pause every task."""
        self._send(
            self.app.threadsafe.pause_all, lambda count: (f"Paused {count} task(s)", "information")
        )

    def resume_all(self) -> None:
        """Resume every paused task."""
        self._send(
            self.app.threadsafe.resume_all,
            lambda count: (f"Resumed {count} task(s)", "information"),
        )

    def cancel(self, view: TaskView) -> None:
        """Cancel the task's running runs."""

        def answer(count: int) -> Answer:
            if not count:
                return f"{view.name}: no run to cancel", "warning"
            return f"Cancelled {count} run(s) of {view.name}", "information"

        self._send(lambda: self.app.threadsafe.cancel_run(view.task_id), answer)

    def _send(
        self,
        command: Callable[[], concurrent.futures.Future[T]],
        answer: Callable[[T], Answer],
    ) -> None:
        try:
            future = command()
        except SchedulerNotRunningError:
            self.target.post_message(CommandAnswered("The scheduler is not running", "warning"))
            return

        def done(future: concurrent.futures.Future[T]) -> None:
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:
                text, severity = f"{type(error).__name__}: {error}", "error"
            else:
                text, severity = answer(future.result())
            self.target.post_message(CommandAnswered(text, severity))

        future.add_done_callback(done)
