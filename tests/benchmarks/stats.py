"""Statistics helpers: lateness against a fixed-rate grid, percentiles, and medians over reps."""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# A start this much before its grid instant still counts as that instant's run (clock
# granularity, and monotonic vs wall clock); it shows as a tiny negative lateness.
EARLY_TOLERANCE_FRACTION = 0.05


@dataclass(frozen=True)
class GridMatch:
    """Grid instants of periodic tasks matched to the body starts that served them."""

    lateness: list[float]
    """Seconds from each served in-window instant to the body start that served it."""
    runs: int
    """Runs executed for in-window instants (one run per instant)."""
    expected: int
    """Grid instants in the window."""
    unserved: int
    """In-window instants after which the task never ran again before recording ended."""


def match_to_grid(
    starts: Iterable[tuple[float, int]],
    origins: Sequence[float],
    period: float,
    window: tuple[float, float],
) -> GridMatch:
    """Match body starts to the fixed-rate grids origins[i] + k·period of their tasks.

    First every run claims the latest unclaimed instant at or before its start, so a
    scheduler that catches up after a stall has its back-to-back runs charged to the
    instants they were late for. Then each instant left unclaimed (skipped, or lost to
    drift) is charged the wait until the task's next run. Skipping and catching up
    therefore cost the same lateness; only `runs` tells them apart.
    """
    tolerance = period * EARLY_TOLERANCE_FRACTION
    by_task: dict[int, list[float]] = defaultdict(list)
    for stamp, index in starts:
        by_task[int(index)].append(stamp)
    lateness: list[float] = []
    runs = unserved = 0
    for index, origin in enumerate(origins):
        stamps = sorted(by_task.get(index, []))
        first = max(0, math.ceil((window[0] - origin) / period - 1e-9))
        last = first + grid_instants(origin, period, window) - 1
        claimed: dict[int, float] = {}
        for stamp in stamps:
            k = math.floor((stamp + tolerance - origin) / period)
            while k in claimed:
                k -= 1
            if k >= 0:
                claimed[k] = stamp
        for k in range(first, last + 1):
            nominal = origin + k * period
            if k in claimed:
                runs += 1
                lateness.append(claimed[k] - nominal)
                continue
            later = bisect.bisect_left(stamps, nominal - tolerance)
            if later < len(stamps):
                lateness.append(stamps[later] - nominal)
            else:
                unserved += 1
    expected = sum(grid_instants(origin, period, window) for origin in origins)
    return GridMatch(lateness=lateness, runs=runs, expected=expected, unserved=unserved)


def grid_instants(origin: float, period: float, window: tuple[float, float]) -> int:
    """How many instants origin + k·period (k ≥ 0) lie in [from, to)."""
    first = max(0, math.ceil((window[0] - origin) / period - 1e-9))
    last = math.ceil((window[1] - origin) / period - 1e-9) - 1
    return max(0, last - first + 1)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in [0, 1]); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    """Median of repetitions with their minimum and maximum."""

    median: float
    low: float
    high: float
    count: int


def spread(values: Iterable[float]) -> Spread | None:
    """Median, min and max of the finite values, or None when there are none."""
    finite = [value for value in values if not math.isnan(value)]
    if not finite:
        return None
    return Spread(statistics.median(finite), min(finite), max(finite), len(finite))
