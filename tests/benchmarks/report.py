"""Writes docs/benchmarks.md from a RunRecord: method, machine, one table per section, losses."""

from __future__ import annotations

import re
import sys

from .losses import PYDANTIC_FLOOR_LINE, losses_in, pydantic_floor_lines, where_we_lose
from .peers import PEERS, PEERS_BY_ID, PYTHON_TAG
from .results import CaseResult, RunRecord
from .tables import LAYOUTS, footnotes, render_table

METHOD = """\
Every number comes from a fresh subprocess running one workload on one scheduler in that
scheduler's own virtual environment, with the same Python. Cells show the median of the
repetitions and, in brackets, their min–max. "vs best scheduler" divides by the best median
among the real schedulers (the floors are references, not contestants).

- **Lateness** = body start (`time.time()` as the body's first statement) − nominal firing
  instant. The nominal instants of a task are its fixed-rate grid `t0 + phase + k·period`,
  for every scheduler: `t0` is one instant shortly after registration, shared by all tasks;
  phase is 0 for aligned runs and a seeded uniform draw in [0, 1) s for random phasing.
  Matching: each run claims the latest unclaimed instant at or before its start (5% of a
  period of tolerance for an early wake-up), so back-to-back catch-up runs are charged to
  the instants they were late for; an instant no run claimed (skipped, or lost to drift) is
  charged the wait until the task's next run. Skipping and catching up thus cost the same
  lateness, and runs / expected tells them apart. Instants after which the task never ran
  again before recording stopped are "never served" and carry no lateness value.
- **Fixed delay is charged as lateness.** aioclock sleeps a full period after each run ends,
  so its start times drift away from the grid; that drift is counted as lateness on purpose.
  Ours and aioclock have no per-task start time, so their serve() is started exactly at
  `t0` and their first run is `first_run_strategy="immediate"` (`"wait"` for a task whose
  first firing is `t0 + period`). Aioclock's grid starts at that start, so the wake-up delay
  of the start counts as lateness too; ours sets its start-time option `interval_origin=t0`
  (grid `t0 + k·period`; sections measured before 2026-12-02 did not, and carry that
  delay).
- **Expected runs** = grid instants in the window [t0, t0 + duration); runs = runs that claimed
  one of those instants (the worker records one extra period for late runs).
- **CPU** = process user+sys (`time.process_time()`, all threads) from t0 + 1 s to the end of
  the window, divided by the firings started in that window.
- **RSS per idle task** = resident set (`/proc/self/statm`) after registering N tasks minus
  after registering the first one (scheduler constructed, its one-time costs paid: our first
  trigger builds its pydantic schema, about 3 MB), / (N − 1); not shown below 100 tasks
  (page noise). Measured from 2026-12-02 15:30 on; before, from before the first task, / N.
- **Bodies** append `(time.time(), task index)` to a list and return; statistics are computed
  by the driver after the worker exited.
- **Drift**: one 0.2 s task whose body awaits `asyncio.sleep(0.05)`; mean period over the first
  50 runs, and drift = 50th start − (1st start + 49 × 0.2 s).
- **Blocking**: a 0.1 s task beside a 2 s task that either calls `time.sleep(0.5)` inside an
  async body (blocks the loop) or is a sync function burning CPU for 0.5 s (run in a worker
  thread by every scheduler; the floor uses `asyncio.to_thread`), or, for ours, burns it in
  a worker process (`executor="process"`; the floor uses a one-worker spawn
  `ProcessPoolExecutor`); and the 0.1 s task alone, as the reference. Lateness of the 0.1 s
  task.
- **Startup**: import = `time.perf_counter()` around the import statement in a fresh
  interpreter, every peer's modules byte-compiled beforehand (ours is an editable install:
  the suite compiles it); first run = parent's `time.time()` just before spawning the worker to the
  body's `time.time()` of a task with an immediate first run (includes interpreter start).
- **Simulated week** (ours only: the other schedulers have no fake clock): 1,000 mixed Every,
  Cron and At tasks in several time zones, `await clock.advance(days=7)` on
  `aioclock_core.testing.FakeClock`; wall and CPU seconds and firings executed. The
  "computed ahead" row is what `clocktui simulate` computes for the same tasks and week:
  `aioclock_core.simulation.simulate()` (every firing, from the scheduler's own timelines,
  no body run), the herds and the DST changes of the tasks' zones; tasks with equal
  built-in triggers share one timeline. CPU = `time.process_time()` around that work.
"""

SUITE_COMMAND = "python{} -m tests.benchmarks".format(
    ".".join(map(str, sys.version_info[:2])) if PYTHON_TAG else ""
)

RERUN = """\
From the project root, with the project's environment (`.venv/bin/python` of the README's
test command: the console, history and memory sections start `clocktui` with it; the peer
sections need only the standard `venv` module):

```
python -m tests.benchmarks                  # full run (25–30 min on 2 cores), rewrites this file
python -m tests.benchmarks --quick          # 1 repetition, short durations: a smoke test
python -m tests.benchmarks --only lateness  # or drift, blocking, startup, simulated
python -m tests.benchmarks --reps 5         # more repetitions
python3.12 -m tests.benchmarks --only lateness  # another Python: docs/benchmarks-py3.12.md
```

The first run creates one virtual environment per scheduler under `.bench/venvs/` (ours is an
editable install of the project root); raw results are cached in `.bench/results/`. Close other
work first: every workload is timing-sensitive and the machine's load is recorded above.
"""


def section(results: list[CaseResult]) -> str:
    layout = LAYOUTS[results[0].case.section]
    parts = [f"## {layout.title}", "", render_table(results, layout)]
    notes = footnotes(results, lambda peer: PEERS_BY_ID[peer].title)
    if notes:
        parts += ["", *notes]
    return "\n".join(parts)


def render(record: RunRecord) -> str:
    """The whole Markdown document."""
    machine = [f"| {key} | {value} |" for key, value in record.machine.items()]
    versions = [
        f"| {peer.title} | {record.versions.get(peer.id, 'not installed')} | {peer.caveat} |"
        for peer in PEERS
        if peer.id in record.versions
    ]
    by_section: dict[str, list[CaseResult]] = {}
    for result in record.results:
        by_section.setdefault(result.case.section, []).append(result)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{SUITE_COMMAND}` ({record.mode} mode) on "
        f"{record.started_utc} UTC in {record.seconds / 60:.1f} min. Do not edit by hand: "
        "rerun it.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *machine,
        "",
        "## Schedulers",
        "",
        "| scheduler | version | configuration and caveats |",
        "|---|---|---|",
        *versions,
        "",
        "## Method",
        "",
        METHOD,
        *(section(results) + "\n" for results in by_section.values()),
        "## Where we lose",
        "",
        "Generated from the tables above: every case where ours is more than 10% (and more",
        "than a noise margin) behind the best other scheduler, or did not produce a number.",
        "What the profile shows for each: [where we lose, and why](performance.md).",
        "",
        *where_we_lose(record.results),
        "",
        "## How to rerun",
        "",
        RERUN,
    ]
    return "\n".join(lines)


def splice(previous: str, record: RunRecord) -> str:
    """`previous` (the whole report) with the sections of `record`, a partial rerun that
    had no cached results to merge into, put in: their tables replaced (or added after
    their family's), the rerun peers' versions, the method and the losses of those
    sections updated, and the first line saying what was rerun when."""
    head, *chunks = previous.split("\n## ")
    sections = {chunk.split("\n", 1)[0]: chunk for chunk in chunks}
    order = [chunk.split("\n", 1)[0] for chunk in chunks]
    rerun = sorted({result.case.section for result in record.results})
    names = ", ".join(rerun)
    head = re.sub(rf"; {re.escape(names)} rerun [\d:\- ]+?(?=;| UTC in )", "", head)  # superseded
    head = head.replace(" UTC in ", f"; {names} rerun {record.started_utc} UTC in ", 1)
    for peer in PEERS:
        if peer.id in record.versions:
            row = f"| {peer.title} | {record.versions[peer.id]} | {peer.caveat} |"
            lines = sections["Schedulers"].rstrip("\n").split("\n")
            if any(line.startswith(f"| {peer.title} |") for line in lines):
                lines = [row if line.startswith(f"| {peer.title} |") else line for line in lines]
            else:  # a peer the report did not have yet: last row of the table
                lines.append(row)
            sections["Schedulers"] = "\n".join(lines) + "\n"
    sections["Method"] = f"Method\n\n{METHOD}"
    by_section: dict[str, list[CaseResult]] = {}
    for result in record.results:
        by_section.setdefault(result.case.section, []).append(result)
    for name, results in by_section.items():
        title = LAYOUTS[name].title
        if title not in sections:
            family = [LAYOUTS[key].title for key in LAYOUTS if key.split("-")[0] in name]
            after = max((order.index(t) for t in family if t in order), default=len(order) - 3)
            order.insert(after + 1, title)
        sections[title] = section(results).removeprefix("## ") + "\n"
    stale = tuple(f"- {name} " for name in rerun)
    fresh_floor = pydantic_floor_lines(record.results)
    if fresh_floor:
        stale += (PYDANTIC_FLOOR_LINE,)
    losses = [
        line
        for line in sections["Where we lose"].rstrip("\n").split("\n")
        if not line.startswith(stale)
    ]
    fresh = [f"- {line}" for result in record.results for line in losses_in(result)]
    sections["Where we lose"] = "\n".join([*losses, *fresh, *fresh_floor]) + "\n"
    return "\n## ".join([head, *(sections[title] for title in order)])
