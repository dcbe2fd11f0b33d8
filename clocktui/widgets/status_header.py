"""StatusHeader: app name, the scheduler's clock, its phase, the task counts and the
worker threads still running for runs that ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.widget import Widget

from clocktui.formatting import format_clock
from clocktui.model import ConsoleModel, SchedulerPhase

__all__ = ["StatusHeader"]

_PHASE_STYLES = {
    SchedulerPhase.STARTING: "bold yellow",
    SchedulerPhase.RUNNING: "bold green",
    SchedulerPhase.STOPPING: "bold yellow",
    SchedulerPhase.STOPPED: "bold",
    SchedulerPhase.CRASHED: "bold red",
    SchedulerPhase.DISCONNECTED: "bold red",
}


class StatusHeader(Widget):
    """One line across the top; the screen's tick and model changes call `redraw_changed`."""

    def __init__(
        self,
        name: str,
        model: ConsoleModel,
        now: Callable[[], datetime],
        zone: tzinfo,
    ) -> None:
        super().__init__()
        self.app_name = name
        self.model = model
        self.now = now
        self.zone = zone
        self._drawn: tuple[object, ...] | None = None

    def _state(self) -> tuple[str, SchedulerPhase, int, int, int, int, int, str | None]:
        running, paused, failing, threads = self.model.counts()
        clock = format_clock(self.now(), self.zone)
        model = self.model
        return (
            clock,
            model.phase,
            len(model.tasks),
            running,
            paused,
            failing,
            threads,
            model.history_failure,
        )

    def redraw_changed(self) -> None:
        """Redraw if the clock's second, the phase or a count changed since the last draw
        (a frame costs Textual about a millisecond even for one line)."""
        if self._state() != self._drawn:
            self.refresh()

    def render(self) -> Text:
        state = self._drawn = self._state()
        clock, phase, tasks, running, paused, failing, threads, history_failure = state
        warning = ("  ⚠ history not written (see the log)", "bold red") if history_failure else ""
        # Shown only while there are any: threads of timed-out runs that cannot be stopped.
        overrun = (
            ("  ", (f"{threads} thread{'s' * (threads != 1)} still running", "bold yellow"))
            if threads
            else ()
        )
        return Text.assemble(
            (f" {self.app_name} ", "bold reverse"),
            "  ",
            (clock, "bold"),
            "  ",
            ("● ", _PHASE_STYLES[phase]),
            (phase.value, _PHASE_STYLES[phase]),
            "   ",
            (f"{tasks} tasks", ""),
            "  ",
            (f"{running} running", "green" if running else "dim"),
            "  ",
            (f"{paused} paused", "yellow" if paused else "dim"),
            "  ",
            (f"{failing} failing", "bold red" if failing else "dim"),
            *overrun,
            warning,
            no_wrap=True,
            overflow="ellipsis",
        )
