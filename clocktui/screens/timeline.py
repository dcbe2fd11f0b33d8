"""TimelineScreen: the shown tasks' firings over the next hour, day or week, simulated from
their live timelines, with median runs, predicted overlaps, herds and DST changes."""

from __future__ import annotations

import concurrent.futures
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from aioclock_core.exceptions import SchedulerNotRunningError
from aioclock_core.simulation import SimulationTooLarge, dst_transitions
from clocktui.forecast import HERD_SIZE, medians_of_model
from clocktui.formatting import format_clock, format_duration
from clocktui.sources.base import SourceUnavailable
from clocktui.timeline import SPANS
from clocktui.widgets.status_header import StatusHeader
from clocktui.widgets.timeline_chart import DST_GLYPH, HERD_GLYPH, TimelineChart, TimelineData

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["TimelineScreen", "TimelineComputed"]

MAX_FIRINGS = 2_000_000
"""Firings one timeline may simulate; beyond, it asks for fewer tasks or a shorter span."""
_ASK_TIMEOUT = 5.0
"""Seconds the scheduler's loop has to hand over copies of its timelines."""


class TimelineComputed(Message):
    """A worker thread simulated the shown tasks (None: it could not; `note` says why)."""

    def __init__(self, generation: int, data: TimelineData | None, note: str = "") -> None:
        super().__init__()
        self.generation = generation
        self.data = data
        self.note = note


class TimelineScreen(Screen[None]):
    """When the tasks the table shows will fire, and what collides."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("t", "app.pop_screen", "Back", show=False),
        Binding("plus", "span(1)", "Longer span", key_display="+"),
        Binding("minus", "span(-1)", "Shorter span", key_display="-"),
        Binding("enter", "details", "Details"),
    ]

    def __init__(self, order: list[UUID], selected: UUID | None) -> None:
        super().__init__()
        self.order = order
        self.selected = selected
        self.span_index = 0
        self.generation = 0
        self.shown_from: datetime | None = None

    @property
    def console(self) -> ClockConsole:
        return self.app  # type: ignore[return-value]

    @property
    def chart(self) -> TimelineChart:
        return self.query_one(TimelineChart)

    def compose(self) -> ComposeResult:
        console = self.console
        yield StatusHeader(console.source.name, console.model, console.now, console.zone)
        yield Static(id="timeline-title")
        yield TimelineChart(self.order, self.selected, console.zone)
        yield Static(id="timeline-legend")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#timeline-legend", Static).update(_legend(self.chart))
        self.model_changed()
        self.recompute()
        self.chart.focus()

    # ----- updates (called by the app) --------------------------------------------------
    def tick(self) -> None:
        """The clock moved on: simulate again once it moved by a cell of the chart."""
        self.query_one(StatusHeader).redraw_changed()
        shown = self.shown_from
        if shown is None or (self.console.now() - shown).total_seconds() >= self._cell():
            self.recompute()

    def model_changed(self) -> None:
        self.chart.set_medians(medians_of_model(self.console.model, self.order))
        self.query_one(StatusHeader).redraw_changed()

    def _cell(self) -> float:
        window = self.chart.window()
        return window.cell if window is not None else 1.0

    # ----- simulating ---------------------------------------------------------------------
    def recompute(self) -> None:
        """Simulate the shown tasks over the span, from copies of their live timelines, in
        a worker thread (a week of a busy app takes a while)."""
        self.generation += 1
        generation, span, console = self.generation, SPANS[self.span_index][1], self.console
        tasks = list(self.order)

        def simulate() -> None:
            try:
                simulator = console.source.simulator(tasks).result(timeout=_ASK_TIMEOUT)
                simulation = simulator.run(simulator.start + span, MAX_FIRINGS)
            except SimulationTooLarge as error:
                note = f"{error}: filter the table to fewer tasks, or press - for a shorter span"
                self.post_message(TimelineComputed(generation, None, note))
                return
            except SourceUnavailable as error:
                self.post_message(TimelineComputed(generation, None, f"No timeline: {error}"))
                return
            except (RuntimeError, SchedulerNotRunningError, concurrent.futures.TimeoutError):
                note = "No timeline: the scheduler is not running"
                self.post_message(TimelineComputed(generation, None, note))
                return
            zones = {task.zone for task in simulation.tasks}
            data = TimelineData(
                simulation,
                [herd.at for herd in simulation.herds(HERD_SIZE)],
                {zone: dst_transitions(zone, simulation.start, simulation.end) for zone in zones},
            )
            self.post_message(TimelineComputed(generation, data))

        self.run_worker(simulate, thread=True, group="timeline")

    def on_timeline_computed(self, message: TimelineComputed) -> None:
        if message.generation != self.generation:
            return  # an older span's, or overtaken by the clock
        self.shown_from = None if message.data is None else message.data.simulation.start
        self.chart.show(message.data, message.note)
        self._show_title()

    def _show_title(self) -> None:
        name = SPANS[self.span_index][0]
        title = Text.assemble((" Timeline ", "bold reverse"), f"  the next {name}")
        if self.shown_from is not None:
            title.append(f" from {format_clock(self.shown_from, self.console.zone)}")
            title.append(f", {format_duration(self._cell())} per column", "dim")
        title.append(f"   {len(self.order)} tasks (the table's filter)", "dim")
        self.query_one("#timeline-title", Static).update(title)

    # ----- actions ---------------------------------------------------------------------
    def action_span(self, step: int) -> None:
        index = max(0, min(self.span_index + step, len(SPANS) - 1))
        if index != self.span_index:
            self.span_index = index
            self.recompute()

    def action_details(self) -> None:
        if (task_id := self.chart.selected) is not None:
            from clocktui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(task_id))

    def on_timeline_chart_highlighted(self, message: TimelineChart.Highlighted) -> None:
        """The table below follows the timeline's selection."""
        from clocktui.screens.main import MainScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                screen.table.select(message.task_id)


def _legend(chart: TimelineChart) -> Text:
    """What the marks mean, drawn in the chart's own styles."""

    def style(name: str) -> Style:
        return chart.get_component_rich_style(name, partial=True)

    return Text.assemble(
        ("┃", style("timeline--firing")),
        " firing  ",
        ("━", style("timeline--run")),
        " median run  ",
        ("┃━", style("timeline--overlap")),
        " overlaps an earlier run (skipped)  ",
        (HERD_GLYPH, style("timeline--herd")),
        f" herd: more than {HERD_SIZE} firings at once  ",
        (DST_GLYPH, style("timeline--dst")),
        " DST change",
    )
