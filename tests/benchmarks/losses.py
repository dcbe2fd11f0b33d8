"""Derives the report's "where we lose" sentences from the numbers, never from opinion."""

from __future__ import annotations

from dataclasses import dataclass

from .peers import PEERS_BY_ID
from .plan import PYDANTIC_FLOOR
from .results import REFERENCE_PEER, REFERENCE_PEERS, CaseResult

OURS = "ours"
RELATIVE_MARGIN = 0.10


@dataclass(frozen=True)
class Comparison:
    """A lower-is-better metric, and the absolute difference below which it is noise."""

    metric: str
    label: str
    unit: str
    noise: float


COMPARISONS: dict[str, tuple[Comparison, ...]] = {
    "lateness": (
        Comparison("p99_ms", "p99 lateness", "ms", 0.1),
        Comparison("max_ms", "max lateness", "ms", 0.5),
        Comparison("cpu_s_per_1000", "CPU per 1,000 firings", "s", 0.0005),
        Comparison("rss_bytes_per_task", "RSS per idle task", "B", 64),
    ),
    "blocking": (Comparison("p99_ms", "p99 lateness", "ms", 0.1),),
    "drift": (Comparison("abs_drift_ms", "drift after 50 periods (absolute)", "ms", 0.5),),
    "startup": (
        Comparison("import_ms", "import time", "ms", 2.0),
        Comparison("first_run_ms", "spawn to first run", "ms", 2.0),
    ),
}


def others(result: CaseResult) -> list[str]:
    return [peer for peer in result.outcomes if peer != OURS and peer not in REFERENCE_PEERS]


def median(result: CaseResult, peer: str, metric: str) -> float | None:
    if metric == "abs_drift_ms":
        summary = result.summary(peer, "drift_ms")
        return abs(summary.median) if summary else None
    summary = result.summary(peer, metric)
    return summary.median if summary else None


def losses_in(result: CaseResult) -> list[str]:
    where = f"{result.case.section} {result.case.label}"
    status, reason = result.status(OURS)
    working = [peer for peer in others(result) if result.status(peer)[0] == "ok"]
    if status != "ok":
        if working and status in ("failed", "n/a"):
            names = ", ".join(PEERS_BY_ID[peer].title for peer in working)
            return [f"{where}: ours {status} ({reason}) while {names} produced numbers."]
        return []
    lines = []
    for comparison in COMPARISONS.get(result.case.family, ()):
        mine = median(result, OURS, comparison.metric)
        rivals = [
            (value, peer)
            for peer in working
            if (value := median(result, peer, comparison.metric)) is not None
        ]
        if mine is None or not rivals:
            continue
        best, winner = min(rivals)
        if mine - best > comparison.noise and mine > best * (1 + RELATIVE_MARGIN):
            times = f"{mine / best:.1f}×" if best > 0 else "more"
            lines.append(
                f"{where}: {comparison.label} {mine:,.4g} {comparison.unit} vs "
                f"{PEERS_BY_ID[winner].title} {best:,.4g} {comparison.unit} ({times})."
            )
    runs, expected = result.summary(OURS, "runs"), result.summary(OURS, "expected")
    if result.case.family in ("lateness", "blocking") and runs and expected:
        if runs.median < expected.median:
            lines.append(
                f"{where}: ours ran {runs.median:,.0f} of {expected.median:,.0f} expected firings."
            )
    return lines


def floor_gap(result: CaseResult) -> str | None:
    mine, floor = median(result, OURS, "p99_ms"), median(result, REFERENCE_PEER, "p99_ms")
    if mine is None or floor is None:
        return None
    return f"{result.case.section} {result.case.label}: p99 {mine:,.3g} ms vs floor {floor:,.3g} ms"


def where_we_lose(results: list[CaseResult]) -> list[str]:
    """Bullet lines; a closing line says so when ours is never behind the best peer."""
    lines = [f"- {line}" for result in results for line in losses_in(result)]
    if not lines:
        lines = [
            "- In no measured case is ours behind the best other scheduler by more than "
            f"{RELATIVE_MARGIN:.0%} (and the noise margin) on the compared metrics."
        ]
    gaps = [
        gap for result in results if result.case.family == "lateness" if (gap := floor_gap(result))
    ]
    if gaps:
        lines.append(
            "- Distance to the plain-asyncio floor (not a scheduler): " + "; ".join(gaps) + "."
        )
    return lines + pydantic_floor_lines(results)


PYDANTIC_FLOOR_LINE = (
    "- Distance to the floor with one pydantic model (what triggers that are pydantic "
    "models cost any scheduler's start): "
)


def pydantic_floor_lines(results: list[CaseResult]) -> list[str]:
    starts = [gap for result in results if (gap := pydantic_floor_gap(result))]
    return [PYDANTIC_FLOOR_LINE + "; ".join(starts) + "."] if starts else []


def pydantic_floor_gap(result: CaseResult) -> str | None:
    """The startup row of `result` against the floor that builds one pydantic model."""
    if result.case.family != "startup":
        return None
    for comparison in COMPARISONS["startup"]:
        mine = median(result, OURS, comparison.metric)
        floor = median(result, PYDANTIC_FLOOR, comparison.metric)
        if mine is not None and floor is not None:
            return (
                f"{comparison.label} ours {mine:,.4g} {comparison.unit} vs "
                f"{floor:,.4g} {comparison.unit}"
            )
    return None
