"""Runs the plan: prepares venvs, runs every repetition on every peer, saves and reports."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .machine import describe_machine
from .peers import BENCH_DIR, PEERS_BY_ID, PROJECT_ROOT, PYTHON_TAG
from .plan import Case, build_plan
from .report import render, splice
from .results import CaseResult, RunRecord, load, save
from .runner import Outcome, measure, scrub
from .sections import keep_blocks
from .venvs import ensure_venv, installed_version

RESULTS_FILE = BENCH_DIR / "results" / f"latest{PYTHON_TAG}.json"
REPORT_FILE = PROJECT_ROOT / "docs" / f"benchmarks{PYTHON_TAG}.md"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def select(plan: list[Case], only: str | None, peers: str | None) -> list[Case]:
    if only:
        plan = [case for case in plan if only in (case.family, case.section)]
    if peers:
        wanted = tuple(peer.strip() for peer in peers.split(","))
        unknown = [peer for peer in wanted if peer not in PEERS_BY_ID]
        if unknown:
            raise SystemExit(f"unknown peer(s) {unknown}; choose from {sorted(PEERS_BY_ID)}")
        plan = [
            Case(**{**case.__dict__, "peers": tuple(p for p in case.peers if p in wanted)})
            for case in plan
        ]
    return [case for case in plan if case.peers]


def project_revision() -> str:
    """The project's commit and whether the tree had changes (read-only git queries)."""

    def git(*arguments: str) -> str:
        done = subprocess.run(
            ["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "no commit yet"
    # The reports are this suite's output, not the code it measures.
    dirty = git("status", "--porcelain", "--", ".", ":!docs/benchmarks*.md")
    dirty = " + uncommitted changes" if dirty else ""
    return f"working tree at {commit}{dirty}"


def install_error(log: Path, error: Exception) -> str:
    """The most telling line of a failed install log (pip buries the cause mid-output)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    causes = [line.strip() for line in lines if "Error:" in line or line.startswith("ERROR")]
    return scrub(causes[-1] if causes else type(error).__name__)[:120]


def prepare(peer_ids: set[str]) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """Interpreters and versions of the peers whose venv is usable, and why the others are not."""
    pythons, versions, broken = {}, {}, {}
    for peer_id in sorted(peer_ids):
        peer = PEERS_BY_ID[peer_id]
        log = BENCH_DIR / "logs" / f"install-{peer_id}{PYTHON_TAG}.log"
        say(f"venv {peer_id}: preparing")
        try:
            pythons[peer_id] = ensure_venv(peer, log)
        except (subprocess.CalledProcessError, OSError) as error:
            broken[peer_id] = f"install failed: {install_error(log, error)}"
            continue
        versions[peer_id] = installed_version(pythons[peer_id], peer.distribution)
        if peer_id == "ours":
            versions[peer_id] += f" ({project_revision()})"
    return pythons, versions, broken


def measure_all(
    plan: list[Case], pythons: dict[str, Path], broken: dict[str, str]
) -> list[CaseResult]:
    results = []
    for case in plan:
        result = CaseResult(case, {peer: [] for peer in case.peers})
        for rep in range(case.reps):
            for peer_id in case.peers:
                if peer_id in broken:
                    outcome = Outcome("failed", reason=broken[peer_id])
                else:
                    outcome = measure(case, PEERS_BY_ID[peer_id], pythons[peer_id])
                result.outcomes[peer_id].append(outcome)
                shown = outcome.reason or ", ".join(
                    f"{key}={value:.4g}" for key, value in list(outcome.metrics.items())[:4]
                )
                say(
                    f"{case.section} {case.label} rep {rep + 1} {peer_id}: {outcome.status} {shown}"
                )
        results.append(result)
    return results


def run(args: argparse.Namespace) -> int:
    """Run the selected cases (or reuse cached results) and write docs/benchmarks.md."""
    if args.report_only:
        record = load(RESULTS_FILE)
    else:
        started = time.monotonic()
        started_utc = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        machine = describe_machine()
        plan = select(build_plan(args.quick, args.reps), args.only, args.peers)
        if not plan:
            say("nothing selected")
            return 2
        pythons, versions, broken = prepare({peer for case in plan for peer in case.peers})
        results = measure_all(plan, pythons, broken)
        record = RunRecord(
            machine={**machine, "load average at end": describe_machine()[LOAD_KEY]},
            versions=versions,
            mode="quick" if args.quick else "full",
            started_utc=started_utc,
            seconds=time.monotonic() - started,
            results=results,
        )
        rerun = record
        if (args.only or args.peers) and not args.quick and RESULTS_FILE.exists():
            record = merge_rerun(load(RESULTS_FILE), record)
        save(record, RESULTS_FILE)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    previous = REPORT_FILE.read_text() if REPORT_FILE.exists() else ""
    if (args.only or args.peers) and not (args.report_only or args.quick) and previous:
        # A partial rerun puts its own sections into the report; the cache may hold less
        # than the report shows (a fresh checkout has none), so it is not rendered whole.
        REPORT_FILE.write_text(splice(previous, rerun))
    else:
        REPORT_FILE.write_text(keep_blocks(previous, render(record)))
    say(f"wrote {REPORT_FILE.relative_to(PROJECT_ROOT)}")
    if not (args.report_only or args.quick or args.only or args.peers):
        from .extras import main as run_extras  # console, history and coordination

        return run_extras(["--reps", str(args.reps or 3)])
    return 0


LOAD_KEY = "load average at start (1/5/15 min)"


def merge_rerun(previous: RunRecord, rerun: RunRecord) -> RunRecord:
    """A partial rerun (--only/--peers) replaces its own cases' outcomes in the previous
    full record; the report says when each part ran."""
    redone = {(r.case.section, r.case.label): r for r in rerun.results}
    merged = []
    for result in previous.results:
        fresh = redone.pop((result.case.section, result.case.label), None)
        if fresh is not None:
            result.outcomes.update(fresh.outcomes)
        merged.append(result)
    merged.extend(redone.values())
    previous.results = merged
    previous.versions.update(rerun.versions)
    previous.started_utc += f"; {', '.join(sorted({r.case.section for r in rerun.results}))}"
    previous.started_utc += f" rerun {rerun.started_utc}"
    return previous
