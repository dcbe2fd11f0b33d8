"""Command line of the suite: `python -m tests.benchmarks [--quick] [--only W] [--reps N]`."""

from __future__ import annotations

import argparse
import sys

from .driver import run
from .peers import PEERS


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Benchmark aioclock_core against aioclock, APScheduler 3 and 4.",
    )
    parser.add_argument("--quick", action="store_true", help="1 repetition, short durations")
    parser.add_argument(
        "--only",
        metavar="WORKLOAD",
        help="lateness, drift, blocking, startup or simulated (or a section, e.g. lateness-random)",
    )
    parser.add_argument("--reps", type=int, help="repetitions per case (default 3, quick 1)")
    parser.add_argument("--peers", help="comma-separated subset of: " + ", ".join(PEER_IDS))
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the cached results"
    )
    return parser.parse_args(argv)


PEER_IDS = tuple(peer.id for peer in PEERS)

if __name__ == "__main__":
    sys.exit(run(parse_arguments(sys.argv[1:])))
