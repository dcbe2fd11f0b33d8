"""Pure text helpers: durations, countdowns, instants in the display zone, outcome words,
user text made inert, cutting text to a width."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime, tzinfo

from rich.cells import cell_len, set_cell_size

from aioclock_core.events import RunOutcome

__all__ = [
    "format_duration",
    "format_countdown",
    "format_instant",
    "format_clock",
    "format_ago",
    "format_elapsed",
    "outcome_word",
    "align_columns",
    "fit",
    "inert",
    "cut_middle",
]

_OUTCOME_WORDS = {
    RunOutcome.SUCCEEDED: "ok",
    RunOutcome.FAILED: "failed",
    RunOutcome.TIMED_OUT: "timed out",
    RunOutcome.CANCELLED: "cancelled",
    RunOutcome.INTERRUPTED: "interrupted",
    RunOutcome.ABANDONED: "abandoned",
}


def inert(text: str, *, multiline: bool = False) -> str:
    """`text` with each control character shown escaped, as repr() shows it without the
    quotes: ``"\x1b[2J"`` reads ``\x1b[2J`` and does not clear the screen. Task names,
    log messages and errors come from user code; none of them may move the cursor,
    recolour or retitle the terminal. With `multiline`, newlines and tabs stay."""
    if text.isprintable():
        return text
    kept = "\n\t" if multiline else ""
    return "".join(c if c.isprintable() or c in kept else repr(c)[1:-1] for c in text)


def outcome_word(outcome: RunOutcome | None) -> str:
    """The short word the console shows for a run's outcome ("" for no run yet)."""
    return "" if outcome is None else _OUTCOME_WORDS.get(outcome, str(outcome.value))


def format_duration(seconds: float | None) -> str:
    """A run's duration: ``0 ms``, ``850 ms``, ``4.2 s``, ``3 m 04 s``, ``2 h 05 m``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return _whole_span(seconds)


def format_countdown(seconds: float | None) -> str:
    """Time left until a firing, rounded up: ``now``, ``4 s``, ``2 m 03 s``, ``1 h 02 m``."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return "now"
    whole = math.ceil(seconds)
    return f"{whole} s" if whole < 60 else _whole_span(whole)


def _whole_span(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02} h"
    if hours:
        return f"{hours} h {minutes:02} m"
    return f"{minutes} m {secs:02} s"


def format_instant(instant: datetime | None, now: datetime, zone: tzinfo) -> str:
    """An instant near `now`, in `zone`: ``14:00:05`` today, ``Sun 14:00`` within a
    week, else ``2026-03-28``."""
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    today = now.astimezone(zone).date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    if abs((local.date() - today).days) < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%Y-%m-%d")


def format_ago(instant: datetime | None, now: datetime, zone: tzinfo) -> str:
    """An instant with how far it is from `now`: ``05:18:07 (3 s ago)``, ``12:00:05 (in 4 s)``
    (the day is named when it is not today, as in `format_instant`)."""
    if instant is None:
        return ""
    seconds = (now - instant).total_seconds()
    when = format_instant(instant, now, zone)
    if abs(seconds) < 0.5:
        return f"{when} (now)"
    span = format_elapsed(abs(seconds))
    return f"{when} ({span} ago)" if seconds > 0 else f"{when} (in {span})"


def format_elapsed(seconds: float) -> str:
    """A span in its largest unit, for tight cells: ``3 s``, ``59 s``, ``12 m``, ``5 h``,
    ``2 d``."""
    whole = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size} {unit}"
    return f"{whole} s"


def format_clock(instant: datetime, zone: tzinfo) -> str:
    """The console's clock: ``2026-03-28 14:00:05 UTC``."""
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()


def align_columns(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """Plain-text lines of `rows` in aligned columns, two spaces apart; the columns whose
    index is in `right` are aligned right, and the last column is not padded."""
    if not rows:
        return []
    count = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(count - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def fit(text: str, width: int, align: str = "left", *, middle: bool = False) -> str:
    """Pad or cut `text` to exactly `width` terminal cells (an ellipsis marks a cut);
    `align` is ``left`` or ``right``; `middle` cuts in the middle (see `cut_middle`)."""
    text = text.replace("\n", " ")
    length = cell_len(text)
    if length > width:
        if middle:
            return cut_middle(text, width)
        return set_cell_size(text, max(0, width - 1)) + "…"
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding


def cut_middle(text: str, width: int) -> str:
    """`text` in exactly `width` cells, cut in the middle when longer: names of many tasks
    share their beginning (``reports.nightly.eu-west-1``, ``…us-east-2``), so the end,
    which tells them apart, keeps two thirds of the room."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width <= 1:
        return "…"[:width]
    room = width - 1
    head = _take_cells(text, room // 3)
    tail = _take_cells(text[::-1], room - cell_len(head))[::-1]
    return set_cell_size(head + "…" + tail, width)


def _take_cells(text: str, cells: int) -> str:
    """The longest start of `text` that fits in `cells` (a wide character is never split)."""
    used = 0
    for index, char in enumerate(text):
        used += cell_len(char)
        if used > cells:
            return text[:index]
    return text
