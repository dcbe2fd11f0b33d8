"""StatusHeader: app name, the scheduler's clock and phase, the task counts, the worker
threads still running for runs that ended, a warning when history is not written, and the
answer to the user's last command; the less important parts give way on a narrow terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from clocktui.formatting import format_clock, inert
from clocktui.model import ConsoleModel, SchedulerPhase

__all__ = ["StatusHeader", "FLASH_SECONDS"]

FLASH_SECONDS = 3.0
"""How long the answer to a command stays in the header."""
_PHASE_CLASSES = {
    SchedulerPhase.STARTING: "status-header--warning",
    SchedulerPhase.RUNNING: "status-header--good",
    SchedulerPhase.STOPPING: "status-header--warning",
    SchedulerPhase.STOPPED: "status-header--bold",
    SchedulerPhase.CRASHED: "status-header--failing",
    SchedulerPhase.DISCONNECTED: "status-header--failing",
}
_SEVERITY_CLASSES = {
    "information": "status-header--flash",
    "warning": "status-header--warning",
    "error": "status-header--failing",
}


class StatusHeader(Widget):
    """One line across the top; the screen's tick and model changes call `redraw_changed`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-header--name",
        "status-header--bold",
        "status-header--good",
        "status-header--warning",
        "status-header--failing",
        "status-header--muted",
        "status-header--flash",
    }

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
        self._drawn: _Shown | None = None
        self._flash: tuple[str, str, float] | None = None

    def flash(self, text: str, severity: str = "information") -> None:
        """Show `text` (the answer to a command) for `FLASH_SECONDS`."""
        self._flash = (inert(text), severity, time.monotonic() + FLASH_SECONDS)
        self.set_timer(FLASH_SECONDS + 0.05, self.redraw_changed)
        self.refresh()

    @property
    def flash_text(self) -> str | None:
        """The answer shown now, if any."""
        if self._flash is None or time.monotonic() >= self._flash[2]:
            return None
        return self._flash[0]

    def _state(self) -> _Shown:
        running, paused, failing, threads = self.model.counts()
        now = self.now()
        if self.size.width >= 100:
            clock = format_clock(now, self.zone)
        else:
            clock = f"{now.astimezone(self.zone):%H:%M:%S}"
        flash = self._flash[:2] if self._flash and self.flash_text is not None else None
        return _Shown(
            clock=clock,
            phase=self.model.phase,
            tasks=len(self.model.tasks),
            running=running,
            paused=paused,
            failing=failing,
            threads=threads,
            history_failure=self.model.history_failure is not None,
            flash=flash,
            width=self.size.width,
        )

    def redraw_changed(self) -> None:
        """Redraw if the clock's second, the phase, a count or the answer shown changed
        since the last draw (a frame costs Textual about a millisecond even for one line)."""
        if self._state() != self._drawn:
            self.refresh()

    def render(self) -> Text:
        shown = self._drawn = self._state()
        style = self.get_component_rich_style
        muted = style("status-header--muted")
        good, warning = style("status-header--good"), style("status-header--warning")
        # (what it says, its style, how long it stays: the lowest give way first)
        parts: list[tuple[str, Style, int]] = [
            (f" {self.app_name} ", style("status-header--name"), 9),
            (shown.clock, style("status-header--bold"), 8),
            (f"● {shown.phase.value}", style(_PHASE_CLASSES[shown.phase]), 8),
        ]
        if shown.failing:
            parts.append((f" ✗ {shown.failing:,} failing ", style("status-header--failing"), 9))
        else:
            parts.append(("0 failing", muted, 2))
        if shown.flash is not None:
            words, severity = shown.flash
            parts.append((f"» {words}", style(_SEVERITY_CLASSES.get(severity, "")), 7))
        parts.append((f"{shown.running:,} running", good if shown.running else muted, 4))
        if shown.tasks and shown.paused == shown.tasks:
            parts.append(("all paused", warning, 6))
        else:
            parts.append((f"{shown.paused:,} paused", warning if shown.paused else muted, 3))
        parts.append((f"{shown.tasks:,} tasks", Style(), 5))
        # Shown only while there are any: threads of timed-out runs that cannot be stopped.
        if shown.threads:
            noun = "thread" if shown.threads == 1 else "threads"
            parts.append((f"{shown.threads:,} {noun} still running", warning, 7))
        if shown.history_failure:
            failing_style = style("status-header--failing")
            parts.append(("⚠ history not written (see the log)", failing_style, 9))
        room = shown.width or 10_000
        while sum(len(words) + 2 for words, _, _ in parts) > room and len(parts) > 3:
            parts.remove(min(parts, key=lambda part: part[2]))
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for index, (words, part_style, _) in enumerate(parts):
            if index:
                text.append("  ")
            text.append(words, part_style)
        return text


@dataclass(frozen=True, slots=True)
class _Shown:
    """What the header shows (equal when nothing changed)."""

    clock: str
    phase: SchedulerPhase
    tasks: int
    running: int
    paused: int
    failing: int
    threads: int
    history_failure: bool
    flash: tuple[str, str] | None
    width: int
