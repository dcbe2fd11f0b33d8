"""Markdown tables: which metrics each report section shows, and how a cell is formatted."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .peers import PEERS_BY_ID
from .results import REFERENCE_PEER, CaseResult
from .stats import Spread


@dataclass(frozen=True)
class Column:
    header: str
    metric: str
    digits: int
    scale: float = 1.0


@dataclass(frozen=True)
class SectionLayout:
    """The columns of one section and the lower-is-better metric its ratio column uses."""

    title: str
    columns: tuple[Column, ...]
    headline: str | None
    runs_column: bool = False


LATENESS_COLUMNS = (
    Column("p50 ms", "p50_ms", 2),
    Column("p99 ms", "p99_ms", 2),
    Column("max ms", "max_ms", 2),
    Column("CPU s / 1,000 firings", "cpu_s_per_1000", 4),
    Column("RSS KiB / idle task", "rss_bytes_per_task", 2, 1 / 1024),
)

LAYOUTS: dict[str, SectionLayout] = {
    "lateness-aligned": SectionLayout(
        "Lateness, all tasks aligned on one instant", LATENESS_COLUMNS, "p99_ms", True
    ),
    "lateness-random": SectionLayout(
        "Lateness, tasks randomly phased in [0, 1) s", LATENESS_COLUMNS, "p99_ms", True
    ),
    "drift": SectionLayout(
        "Drift of a 0.2 s task with a 50 ms body",
        (
            Column("mean period s", "mean_period_s", 4),
            Column("drift ms", "drift_ms", 1),
            Column("periods measured", "periods", 0),
        ),
        None,
    ),
    "blocking-async": SectionLayout(
        "0.1 s task beside an async task that blocks the loop 0.5 s every 2 s",
        LATENESS_COLUMNS[:3],
        "p99_ms",
        True,
    ),
    "blocking-thread": SectionLayout(
        "0.1 s task beside a sync task burning CPU 0.5 s every 2 s in a worker thread",
        LATENESS_COLUMNS[:3],
        "p99_ms",
        True,
    ),
    "blocking-process": SectionLayout(
        "0.1 s task beside a task burning CPU 0.5 s every 2 s in a worker process",
        LATENESS_COLUMNS[:3],
        "p99_ms",
        True,
    ),
    "blocking-alone": SectionLayout(
        "0.1 s task with nothing else running (the reference of the blocking sections)",
        LATENESS_COLUMNS[:3],
        "p99_ms",
        True,
    ),
    "startup-import": SectionLayout(
        "Import time", (Column("import ms", "import_ms", 1),), "import_ms"
    ),
    "startup-first-run": SectionLayout(
        "Process spawn to first run",
        (Column("spawn to first run ms", "first_run_ms", 1),),
        "first_run_ms",
    ),
    "simulated": SectionLayout(
        "Simulated week on the fake clock",
        (
            Column("wall s", "wall_s", 3),
            Column("CPU s", "cpu_s", 3),
            Column("firings", "firings", 0),
            Column("tasks", "tasks", 0),
        ),
        None,
    ),
}


def number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}"


def spread_cell(summary: Spread | None, digits: int, scale: float = 1.0) -> str:
    if summary is None:
        return "–"
    median = number(summary.median * scale, digits)
    if summary.count < 2:
        return median
    low, high = number(summary.low * scale, digits), number(summary.high * scale, digits)
    return f"{median} ({low}–{high})"


def runs_cell(result: CaseResult, peer: str) -> str:
    runs, expected = result.summary(peer, "runs"), result.summary(peer, "expected")
    if runs is None or expected is None:
        return "–"
    text = f"{runs.median:,.0f} / {expected.median:,.0f}"
    unserved = result.summary(peer, "unserved")
    if unserved and unserved.median > 0:
        text += f" ({unserved.median:,.0f} never served)"
    return text


def ratio_cell(result: CaseResult, peer: str, metric: str) -> str:
    best, mine = result.best_peer(metric), result.summary(peer, metric)
    if best is None or mine is None:
        return "–"
    if best[1] <= 0:
        return "best" if peer == best[0] else "–"
    return f"{mine.median / best[1]:.2f}×"


def peer_rows(result: CaseResult, layout: SectionLayout) -> list[list[str]]:
    rows = []
    for peer, _ in result.outcomes.items():
        status, reason = result.status(peer)
        cells = [result.case.label, PEERS_BY_ID[peer].title]
        width = len(layout.columns) + layout.runs_column + (layout.headline is not None)
        if status != "ok":
            text = "n/a" if status == "n/a" else f"{status}: {reason}"
            rows.append([*cells, text.replace("|", "/"), *["–"] * (width - 1)])
            continue
        cells += [
            spread_cell(result.summary(peer, c.metric), c.digits, c.scale) for c in layout.columns
        ]
        if layout.runs_column:
            cells.append(runs_cell(result, peer))
        if layout.headline:
            cells.append(ratio_cell(result, peer, layout.headline))
        rows.append(cells)
    return rows


def render_table(results: list[CaseResult], layout: SectionLayout) -> str:
    headers = ["case", "scheduler", *(c.header for c in layout.columns)]
    if layout.runs_column:
        headers.append("runs / expected")
    if layout.headline:
        headline = next(c.header for c in layout.columns if c.metric == layout.headline)
        headers.append(f"{headline} vs best scheduler")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for result in results:
        lines += ["| " + " | ".join(row) + " |" for row in peer_rows(result, layout)]
    return "\n".join(lines)


def footnotes(results: list[CaseResult], describe: Callable[[str], str]) -> list[str]:
    """Reasons behind n/a cells and repetitions that failed while others succeeded."""
    notes: dict[str, str] = {}
    for result in results:
        for peer in result.outcomes:
            status, reason = result.status(peer)
            if status == "n/a":
                notes[f"{describe(peer)} n/a"] = reason
            overran = result.summary(peer, "setup_overran")
            if overran and overran.high > 0:
                took = result.summary(peer, "registration_s")
                seconds = f"{took.high:.1f} s" if took else "too long"
                notes[f"{describe(peer)}, {result.case.label}"] = (
                    f"registering the tasks took {seconds}, past the first firing instant t0; "
                    "its first firings are late for that reason"
                )
            failed = result.failed_reps(peer)
            if status == "ok" and failed:
                key = f"{describe(peer)}, {result.case.label}"
                notes[key] = f"{len(failed)} repetition(s) failed: {failed[0]}"
    return [f"- {who}: {why}" for who, why in notes.items()]


__all__ = ["LAYOUTS", "REFERENCE_PEER", "footnotes", "render_table"]
