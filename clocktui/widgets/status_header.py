"""StatusHeader: app name, the scheduler's clock, its phase and the task counts."""

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
}


class StatusHeader(Widget):
    """One line across the top; refreshed by the screen's tick and on model changes."""

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

    def render(self) -> Text:
        running, paused, failing = self.model.counts()
        phase = self.model.phase
        text = Text.assemble(
            (f" {self.app_name} ", "bold reverse"),
            "  ",
            (format_clock(self.now(), self.zone), "bold"),
            "  ",
            ("● ", _PHASE_STYLES[phase]),
            (phase.value, _PHASE_STYLES[phase]),
            "   ",
            (f"{len(self.model.tasks)} tasks", ""),
            "  ",
            (f"{running} running", "green" if running else "dim"),
            "  ",
            (f"{paused} paused", "yellow" if paused else "dim"),
            "  ",
            (f"{failing} failing", "bold red" if failing else "dim"),
            no_wrap=True,
            overflow="ellipsis",
        )
        return text
