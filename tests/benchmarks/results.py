"""The collected outcomes of a run, their medians per peer, and their JSON cache form."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .plan import PYDANTIC_FLOOR, Case
from .runner import Outcome
from .stats import Spread, spread

REFERENCE_PEER = "floor"
REFERENCE_PEERS = (REFERENCE_PEER, PYDANTIC_FLOOR)
"""Peers that are references, not contestants: no row is won or lost against them."""


@dataclass
class CaseResult:
    """All repetitions of one case, per peer id, in run order."""

    case: Case
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)

    def summary(self, peer: str, metric: str) -> Spread | None:
        """Median (min–max) of `metric` over the peer's successful repetitions."""
        outcomes = self.outcomes.get(peer, [])
        return spread(o.metrics.get(metric, math.nan) for o in outcomes if o.status == "ok")

    def status(self, peer: str) -> tuple[str, str]:
        """('ok'|'n/a'|'failed'|'not run', reason): ok if any repetition succeeded."""
        outcomes = self.outcomes.get(peer, [])
        if not outcomes:
            return "not run", ""
        if any(o.status == "ok" for o in outcomes):
            return "ok", ""
        worst = Counter(o.status for o in outcomes).most_common(1)[0][0]
        reason = next(o.reason for o in outcomes if o.status == worst)
        return worst, reason

    def failed_reps(self, peer: str) -> list[str]:
        return [o.reason for o in self.outcomes.get(peer, []) if o.status == "failed"]

    def best_peer(self, metric: str) -> tuple[str, float] | None:
        """The non-reference peer with the lowest median of `metric`."""
        candidates = [
            (peer, summary.median)
            for peer in self.outcomes
            if peer not in REFERENCE_PEERS and (summary := self.summary(peer, metric)) is not None
        ]
        return min(candidates, key=lambda item: item[1]) if candidates else None


@dataclass
class RunRecord:
    """Everything the report needs: machine, versions, mode, and the case results."""

    machine: dict[str, str]
    versions: dict[str, str]
    mode: str
    started_utc: str
    seconds: float
    results: list[CaseResult]


def save(record: RunRecord, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record), indent=1))


def load(path: Path) -> RunRecord:
    data: dict[str, Any] = json.loads(path.read_text())
    results = [
        CaseResult(
            case=Case(**{**item["case"], "arguments": tuple(item["case"]["arguments"])}),
            outcomes={
                peer: [Outcome(**outcome) for outcome in outcomes]
                for peer, outcomes in item["outcomes"].items()
            },
        )
        for item in data.pop("results")
    ]
    return RunRecord(results=results, **data)
