"""InProcessSource: the app runs in this process, on its own loop in a thread (`Host`)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from aioclock_core import AioClock
from aioclock_core.exceptions import SchedulerNotRunningError
from clocktui.bridge import Bridge
from clocktui.host import Host
from clocktui.inbox import HostStopped, Inbox
from clocktui.model import TaskView
from clocktui.seeding import request_history
from clocktui.sources.base import Source, Verb, failed_future

if TYPE_CHECKING:
    from aioclock_core.simulation import Simulator
    from clocktui.control_server import ControlServer

__all__ = ["InProcessSource"]


class InProcessSource(Source):
    """Serves `app` when the console starts and stops it when the console quits.

    Args:
        app: The app to host.
        paused: Pause every task as soon as the scheduler starts.
        capture_logs: Forward the root logger's records to the console.
        control: A control socket to serve next to the app (see `ControlServer`).
    """

    hosts_app: ClassVar[bool] = True

    def __init__(
        self,
        app: AioClock,
        *,
        paused: bool = False,
        capture_logs: bool = True,
        control: ControlServer | None = None,
    ) -> None:
        super().__init__(app.name, "in this process", app.clock)
        self.app = app
        self.host = Host(app, paused=paused, control=control)
        self.capture_logs = capture_logs
        self.bridge: Bridge | None = None
        self.inbox: Inbox | None = None

    def tasks(self) -> list[TaskView]:
        return [TaskView.of(task) for task in self.app.tasks]

    def start(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.bridge = Bridge(self.app, inbox)
        self.bridge.connect(capture_logs=self.capture_logs)
        self.host.on_stopped(lambda: inbox.post(HostStopped()))
        self.host.start()

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()
        if not self.host.abandoned:
            self.host.stop(grace=0, timeout=2.0)

    def next_fire_times(
        self, tasks: Collection[UUID] | None = None
    ) -> Mapping[UUID, datetime | None]:
        return self.app.next_fire_times(tasks)

    def load_history(self, task_ids: list[UUID], limit: int) -> None:
        assert self.inbox is not None, "start() first"
        request_history(self.app, self.host.loop, self.inbox.target, task_ids, limit)

    def upcoming(self, task_id: UUID, count: int) -> concurrent.futures.Future[list[datetime]]:
        return self._on_loop(lambda: self.app.upcoming(task_id, count))

    def simulator(self, tasks: list[UUID]) -> concurrent.futures.Future[Simulator]:
        return self._on_loop(lambda: self.app.simulator(tasks))

    def _on_loop(self, function: Any) -> concurrent.futures.Future[Any]:
        try:
            return self.host.call(function)
        except RuntimeError:  # the scheduler's loop is closed: it has stopped
            return failed_future(SchedulerNotRunningError("The scheduler is not running"))

    def send(self, verb: Verb, task_id: UUID | None = None) -> concurrent.futures.Future[Any]:
        control = self.app.threadsafe
        try:
            if verb is Verb.PAUSE_ALL:
                return control.pause_all()
            if verb is Verb.RESUME_ALL:
                return control.resume_all()
            assert task_id is not None, f"{verb.value} needs a task"
            if verb is Verb.RUN_NOW:
                return control.run_now(task_id)
            if verb is Verb.PAUSE:
                return control.pause(task_id)
            if verb is Verb.RESUME:
                return control.resume(task_id)
            return control.cancel_run(task_id)
        except SchedulerNotRunningError as error:
            return failed_future(error)

    # ----- the hosted app -----------------------------------------------------------------
    @property
    def stopped(self) -> bool:
        return self.host.stopped

    @property
    def shutdown_grace(self) -> float:
        return self.app.shutdown_grace

    @property
    def error(self) -> BaseException | None:
        return self.host.error

    def request_stop(self) -> None:
        self.host.request_stop()

    def force_stop(self) -> None:
        self.host.force_stop()

    def abandon(self) -> None:
        self.host.abandon()

    @property
    def abandoned(self) -> bool:
        return self.host.abandoned

    @property
    def history_failure(self) -> BaseException | None:
        return self.app.store.failure
