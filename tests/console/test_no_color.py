"""NO_COLOR and light themes: failures stand out by text, glyph and weight, not colour."""

from __future__ import annotations

import os

import pytest
from rich.style import Style
from textual.color import Color

from clocktui.app import ClockConsole
from clocktui.widgets.status_header import StatusHeader
from clocktui.widgets.task_table import FAILING_GLYPH, TaskTable
from tests.console.conftest import SIZE, advance, build_console, select, started, time_limit


def brightness(style: Style, background: Color) -> float:
    color = Color.from_rich_color(style.color) if style.color else Color(255, 255, 255)
    return abs(color.brightness - background.brightness)


def build(no_color: bool, theme: str) -> ClockConsole:
    if no_color:
        os.environ["NO_COLOR"] = "1"
    try:
        console = build_console()
    finally:
        os.environ.pop("NO_COLOR", None)
    console.theme = theme
    return console


@pytest.mark.parametrize(
    ("no_color", "theme"),
    [(True, "textual-dark"), (False, "textual-light"), (True, "textual-light")],
)
@time_limit()
async def test_a_failing_row_is_marked_and_never_dimmer_than_a_healthy_one(
    no_color: bool, theme: str
) -> None:
    console = build(no_color, theme)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)
        select(console, "warm cache")  # the cursor on neither row
        table = console.screen.query_one(TaskTable)
        order = [console.model.tasks[task_id].name for task_id in table.order]
        failing, healthy = order.index("flaky upload"), order.index("heartbeat")
        draw = table._new_pass()
        failing_style = table._row_style(console.model.tasks[table.order[failing]], failing, draw)
        healthy_style = table._row_style(console.model.tasks[table.order[healthy]], healthy, draw)
        assert failing_style.bold
        background = console.screen.styles.background
        if no_color:  # the colour a monochrome terminal shows is the text's own
            assert failing_style.color == healthy_style.color
        else:
            assert brightness(failing_style, background) >= 0.3
        cells = table.cell_texts(console.model.tasks[table.order[failing]])
        assert cells["name"].startswith(FAILING_GLYPH) and cells["outcome"] == "failed"
        outcome_style = draw.partial["task-table--failed"]
        assert outcome_style.reverse and outcome_style.bold


@time_limit()
async def test_the_headers_failing_count_is_in_reverse_video() -> None:
    console = build(True, "textual-dark")
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 30)
        header = console.screen.query_one(StatusHeader)
        text = header.render()
        span = next(s for s in text.spans if "failing" in text.plain[s.start : s.end])
        style = span.style if isinstance(span.style, Style) else Style.parse(str(span.style))
        assert text.plain[span.start : span.end].strip() == "✗ 1 failing"
        assert style.reverse and style.bold
