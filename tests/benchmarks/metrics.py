"""Turns one worker's raw JSON result into the named numbers the report shows."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .stats import GridMatch, match_to_grid, percentile

Metrics = dict[str, float]
DRIFT_RUNS = 50
RSS_MIN_TASKS = 100


def lateness_summary(match: GridMatch) -> Metrics:
    return {
        "p50_ms": percentile(match.lateness, 0.50) * 1000,
        "p99_ms": percentile(match.lateness, 0.99) * 1000,
        "max_ms": max(match.lateness, default=math.nan) * 1000,
        "runs": float(match.runs),
        "expected": float(match.expected),
        "unserved": float(match.unserved),
    }


def starts_of(raw: dict[str, Any], index: int) -> list[tuple[float, int]]:
    return [(float(stamp), int(i)) for stamp, i in raw["starts"] if int(i) == index]


def lateness_metrics(raw: dict[str, Any]) -> Metrics:
    n, period, duration = int(raw["n"]), float(raw["period"]), float(raw["duration"])
    origins = [float(p) for p in raw["phases"]] or [0.0] * n
    starts = [(float(stamp), int(i)) for stamp, i in raw["starts"]]
    metrics = lateness_summary(match_to_grid(starts, origins, period, (0.0, duration)))
    cpu_from_wall, cpu_from, cpu_to_wall, cpu_to = (float(v) for v in raw["cpu_window"])
    firings = sum(1 for stamp, _ in starts if cpu_from_wall <= stamp < cpu_to_wall)
    metrics["cpu_s_per_1000"] = (cpu_to - cpu_from) / firings * 1000 if firings else math.nan
    # Below 100 tasks the difference is a few pages of allocator noise, not a per-task cost.
    grown = int(raw["rss_after"]) - int(raw["rss_before"])
    tasks = int(raw.get("rss_tasks", n))  # results cached before 2026-12-02 15:30: n
    metrics["rss_bytes_per_task"] = grown / tasks if n >= RSS_MIN_TASKS else math.nan
    metrics["registration_s"] = float(raw["registration_seconds"])
    metrics["setup_overran"] = float(bool(raw["setup_overran"]))
    return metrics


def drift_metrics(raw: dict[str, Any]) -> Metrics:
    stamps = sorted(stamp for stamp, _ in starts_of(raw, 0))
    period = float(raw["period"])
    used = stamps[:DRIFT_RUNS]
    if len(used) < 2:
        return {"runs": float(len(stamps)), "mean_period_s": math.nan, "drift_ms": math.nan}
    intervals = len(used) - 1
    return {
        "runs": float(len(stamps)),
        "periods": float(intervals),
        "mean_period_s": (used[-1] - used[0]) / intervals,
        "drift_ms": (used[-1] - (used[0] + intervals * period)) * 1000,
    }


def blocking_metrics(raw: dict[str, Any]) -> Metrics:
    period, duration = float(raw["period"]), float(raw["duration"])
    ticker = starts_of(raw, 0)
    metrics = lateness_summary(match_to_grid(ticker, [0.0], period, (0.0, duration)))
    metrics["blocker_runs"] = float(len(starts_of(raw, 1)))
    return metrics


def first_run_metrics(raw: dict[str, Any]) -> Metrics:
    return {"first_run_ms": (float(raw["first_run_epoch"]) - float(raw["spawned_at"])) * 1000}


def import_metrics(raw: dict[str, Any]) -> Metrics:
    return {"import_ms": float(raw["import_seconds"]) * 1000}


def simulated_metrics(raw: dict[str, Any]) -> Metrics:
    return {
        "wall_s": float(raw["wall_seconds"]),
        "cpu_s": float(raw["cpu_seconds"]),
        "firings": float(raw["firings"]),
        "tasks": float(raw["tasks"]),
        "simulated_days": float(raw["simulated_days"]),
    }


EXTRACTORS: dict[str, Callable[[dict[str, Any]], Metrics]] = {
    "lateness": lateness_metrics,
    "drift": drift_metrics,
    "blocking": blocking_metrics,
    "first-run": first_run_metrics,
    "import": import_metrics,
    "simulated": simulated_metrics,
    "simulate-ahead": simulated_metrics,
}


def extract(workload: str, raw: dict[str, Any]) -> Metrics:
    """The metrics of one repetition of `workload` (a worker's --workload name)."""
    return EXTRACTORS[workload](raw)
