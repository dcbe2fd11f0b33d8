"""Benchmarks of the console, the history store and replica coordination, each in fresh
processes; their tables go into named blocks of docs/benchmarks.md.

Run `python -m tests.benchmarks.extras [--only console|history|memory|coordination] [--reps N]`
from the project root (`python -m tests.benchmarks` runs it after the peer comparison).
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import json
import os
import pty
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .sections import write_block

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "benchmarks.md"
TICKS = os.sysconf("SC_CLK_TCK")
APP = "tests.benchmarks.bench_apps:make"


@dataclass
class Sample:
    cpu_share: float  # of one core, over the window
    firings_per_second: float
    p50_ms: float
    p99_ms: float


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _window_cpu(
    samples: list[tuple[float, float]], start: float, end: float
) -> tuple[float, float] | None:
    """Process CPU and wall seconds between the in-process samples nearest the window's
    ends (None if the app sampled nothing there)."""
    inside = [(wall, cpu) for wall, cpu in samples if start <= wall <= end]
    if len(inside) < 2:
        return None
    (wall_0, cpu_0), (wall_1, cpu_1) = inside[0], inside[-1]
    return cpu_1 - cpu_0, wall_1 - wall_0


def _drain(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def _spawn(args: list[str], env: dict[str, str], tty: bool) -> tuple[int, int | None]:
    if not tty:
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return process.pid, None
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes the console on a 160x45 terminal
        os.execvpe(args[0], args, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    threading.Thread(target=_drain, args=(fd,), daemon=True).start()
    return pid, fd


def measure(
    tasks: int,
    *,
    console: bool,
    store: str,
    warmup: float,
    window: float,
    periods: str = "herd",
) -> Sample:
    """Serve the benchmark app in a fresh `clocktui` process and measure one window."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lateness.json"
        env = dict(os.environ, BENCH_TASKS=str(tasks), BENCH_OUT=str(out), BENCH_STORE=store)
        env["BENCH_PERIODS"] = periods
        env.update(TERM="xterm-256color", XDG_DATA_HOME=tmp, PYTHONPATH=str(ROOT))
        args = [sys.executable, "-m", "clocktui", APP, "--factory"]
        args += [] if console else ["--headless"]
        # The console's default is a SQLite history file; "memory" really means memory.
        args += ["--no-history"] if store == "memory" else []
        pid, fd = _spawn(args, env, tty=console)
        try:
            time.sleep(warmup)
            cpu_start, wall_start = _cpu_seconds(pid), time.monotonic()
            time.sleep(window)
            cpu = _cpu_seconds(pid) - cpu_start
            wall = time.monotonic() - wall_start
        finally:
            _stop(pid)
            if fd is not None:
                os.close(fd)
        recorded = json.loads(out.read_text()) if out.exists() else {}
        lateness = sorted(recorded.get("lateness", []))
        window_cpu = _window_cpu(recorded.get("cpu", []), wall_start, wall_start + wall)
        if window_cpu is not None:
            cpu, wall = window_cpu
    if not lateness:
        raise RuntimeError(f"no runs recorded ({'console' if console else 'headless'}, {tasks})")
    return Sample(
        cpu_share=cpu / wall,
        firings_per_second=tasks,
        p50_ms=lateness[len(lateness) // 2] * 1000,
        p99_ms=lateness[int(len(lateness) * 0.99)] * 1000,
    )


def _over_headless(screen: list[Sample], headless: list[Sample]) -> str:
    """What the console adds to the headless app's CPU, relative (median of paired runs)."""
    ratios = [s.cpu_share / h.cpu_share - 1 for s, h in zip(screen, headless, strict=True)]
    return f"{statistics.median(ratios) * 100:+.0f} %"


def _median(samples: list[Sample], field: str) -> str:
    values = [getattr(s, field) for s in samples]
    scale = 100 if field == "cpu_share" else 1
    unit = " %" if field == "cpu_share" else " ms"
    middle = statistics.median(values) * scale
    return f"{middle:.1f}{unit} ({min(values) * scale:.1f}–{max(values) * scale:.1f})"


FLOOD_RATE = 5000
"""Lines a second the flood task logs."""
FLOOD_TASKS = 100
FLOOD_WINDOW = 60.0
"""Seconds of flood the keys are pressed in (after FLOOD_WARMUP)."""
FLOOD_WARMUP = 5.0
KEY_TIMEOUT = 10.0
"""Seconds a key press may take to show its screen before it counts as unanswered."""
HELP_MARK = b"escape closes"
"""Text only the help screen draws."""


@dataclass
class FloodSample:
    key_ms: list[float]
    """Key press to the help screen drawn on the terminal, per press answered in time."""
    unanswered: int
    rss_start: float
    rss_end: float
    rss_max: float


class _Terminal(threading.Thread):
    """Reads a console's pseudo-terminal; says when a text shows up after `expect`."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.lock = threading.Lock()
        self.mark: bytes | None = None
        self.seen = threading.Event()
        self.tail = b""

    def expect(self, mark: bytes) -> None:
        with self.lock:
            self.mark, self.tail = mark, b""
            self.seen.clear()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                if self.mark is not None and self.mark in self.tail + chunk:
                    self.mark = None
                    self.seen.set()
                self.tail = chunk[-64:]


def measure_flood(root: Path = ROOT) -> FloodSample:
    """Serve FLOOD_TASKS tasks and a task logging FLOOD_RATE lines a second in the console
    (160x45 pseudo-terminal) from the checkout `root`; press `?` every few seconds and time
    until the help screen is on the terminal; read the RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BENCH_TASKS=str(FLOOD_TASKS), BENCH_FLOOD=str(FLOOD_RATE))
        env.update(TERM="xterm-256color", XDG_DATA_HOME=tmp, PYTHONPATH=str(root))
        env.pop("BENCH_OUT", None)
        # The app by file path: a baseline checkout runs this checkout's flood app.
        app = f"{Path(__file__).with_name('bench_apps.py')}:make"
        args = [sys.executable, "-m", "clocktui", app, "--factory", "--no-history"]
        pid, fd = pty.fork()
        if pid == 0:  # child: the console, in the checkout it measures
            os.chdir(root)
            os.execvpe(args[0], args, env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        terminal = _Terminal(fd)
        terminal.start()
        key_ms: list[float] = []
        unanswered = 0
        try:
            time.sleep(FLOOD_WARMUP)
            rss_start = rss_max = _rss_mib(pid)
            end = time.monotonic() + FLOOD_WINDOW
            while time.monotonic() < end:
                terminal.expect(HELP_MARK)
                pressed = time.monotonic()
                os.write(fd, b"?")
                if terminal.seen.wait(KEY_TIMEOUT):
                    key_ms.append((time.monotonic() - pressed) * 1000)
                else:
                    unanswered += 1
                os.write(fd, b"\x1b")  # escape closes the help
                time.sleep(2.0)
                rss_max = max(rss_max, _rss_mib(pid))
            rss_end = _rss_mib(pid)
            rss_max = max(rss_max, rss_end)
        finally:
            _stop(pid)
            os.close(fd)
    return FloodSample(key_ms, unanswered, rss_start, rss_end, rss_max)


def _stop(pid: int) -> None:
    """SIGTERM, a minute to stop gracefully, then SIGKILL."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def flood_rows(reps: int, baseline: Path | None) -> list[str]:
    """Rows of the flood table: this checkout, and `baseline` if given."""
    codes = {"this checkout": ROOT}
    if baseline is not None:
        codes[f"baseline ({baseline.name})"] = baseline
    rows = []
    for label, root in codes.items():
        samples = [measure_flood(root) for _ in range(reps)]
        presses = [ms for sample in samples for ms in sample.key_ms]
        unanswered = sum(sample.unanswered for sample in samples)
        asked = len(presses) + unanswered
        keys = "none answered"
        if presses:
            keys = f"{statistics.median(presses):.0f} ms (max {max(presses):.0f} ms)"
        rows.append(
            f"| {label} | {keys} | {len(presses)} of {asked} "
            f"| {statistics.median(s.rss_start for s in samples):.0f} MiB "
            f"| {statistics.median(s.rss_end for s in samples):.0f} MiB "
            f"(max {max(s.rss_max for s in samples):.0f}) |"
        )
    return rows


def console_section(reps: int, window: float, baseline: Path | None = None) -> str:
    rows = []
    ratio_at_1000 = ""
    for tasks in (100, 1000, 5000):
        headless = [
            measure(tasks, console=False, store="memory", warmup=6, window=window)
            for _ in range(reps)
        ]
        screen = [
            measure(tasks, console=True, store="memory", warmup=6, window=window)
            for _ in range(reps)
        ]
        extra = [s.cpu_share - h.cpu_share for s, h in zip(screen, headless, strict=True)]
        rows.append(
            f"| {tasks:,} | {_median(headless, 'cpu_share')} | {_median(screen, 'cpu_share')} "
            f"| {statistics.median(extra) * 100:.1f} % | {_over_headless(screen, headless)} "
            f"| {_median(headless, 'p99_ms')} | {_median(screen, 'p99_ms')} |"
        )
        if tasks == 1000:
            ratio = statistics.median(s.p99_ms for s in screen) / statistics.median(
                h.p99_ms for h in headless
            )
            ratio_at_1000 = f"{ratio:.2f}"
    mixed_headless = [
        measure(5000, console=False, store="memory", warmup=6, window=window, periods="mixed")
        for _ in range(reps)
    ]
    mixed_screen = [
        measure(5000, console=True, store="memory", warmup=6, window=window, periods="mixed")
        for _ in range(reps)
    ]
    mixed_extra = [
        s.cpu_share - h.cpu_share for s, h in zip(mixed_screen, mixed_headless, strict=True)
    ]
    rows.append(
        f"| 5,000, periods 1–60 s | {_median(mixed_headless, 'cpu_share')} "
        f"| {_median(mixed_screen, 'cpu_share')} | {statistics.median(mixed_extra) * 100:.1f} % "
        f"| {_over_headless(mixed_screen, mixed_headless)} "
        f"| {_median(mixed_headless, 'p99_ms')} | {_median(mixed_screen, 'p99_ms')} |"
    )
    return "\n".join(
        [
            "## Console: CPU and scheduler lateness with the screen attached",
            "",
            f"`clocktui {APP} --factory --no-history` with N tasks on `Every(1 s)` (all "
            f"aligned: N firings a second, each a run start and end the console shows, the "
            f"worst case for it), on a 160×45 pseudo-terminal, against the same app "
            f"`--headless`; process CPU (all threads, sampled in-process) over a {window:g} s "
            f"window after 6 s of warm-up; lateness = run start − scheduled instant over every "
            f"run (the app takes it from a RunStarted subscriber, in both modes). Medians of "
            f"{reps} (min–max).",
            "",
            "| tasks | headless CPU | console CPU | console's share | share / headless CPU "
            "| headless p99 | console p99 |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Lateness ratio (console p99 / headless p99) at 1,000 tasks: **{ratio_at_1000}** "
            "(target ≤ 1.2). Target for the console's share at 5,000 tasks: ≤ 3 % of a core. "
            "The CPU columns include the scheduler's own firings (N per second for the herd "
            "rows; about 390 per second for the mixed row, where task i fires every "
            "1 + i mod 60 s). The share is in % of this machine's core, so it grows on a "
            "slower machine; the share / headless CPU column (the console's CPU over the "
            "scheduler's own, paired runs) compares across machines.",
            "",
            "### Under a log flood",
            "",
            f"The same console with {FLOOD_TASKS} tasks and one more that logs "
            f"{FLOOD_RATE:,} lines a second on the scheduler's loop from the start; after "
            f"{FLOOD_WARMUP:g} s, `?` is pressed every ~2 s for {FLOOD_WINDOW:g} s and timed "
            "until the help screen's text is on the terminal (key → frame, all presses of "
            f"{reps} runs; a press counts as unanswered after {KEY_TIMEOUT:g} s); RSS from "
            "/proc at the first press and after the last. Targets: a key answered within "
            "1 s, RSS under 200 MB. The machine is shared and noisy: compare medians.",
            "",
            "| code | key → frame, median (max) | answered | RSS at the start "
            "| RSS after the flood (max) |",
            "| --- | --- | --- | --- | --- |",
            *flood_rows(reps, baseline),
        ]
    )


HISTORY_WINDOW = 62.0
"""Seconds: longer than the store's retention interval (60 s), so each SQLite window
includes one pass of the retention besides a dozen batches (one every 5 s)."""


HISTORY_TASKS = 1000
HISTORY_WARMUP = 5.0
HISTORY_BATCH = 5.0
"""The SQLite store's default batch interval (s): a batch holds the runs of that long."""


def sqlite_insert_floor(path: Path, *, bare: bool = False) -> float:
    """CPU µs per run that SQLite itself spends inserting the runs of the history window:
    the rows built beforehand (no Python per run), into the store's schema with its
    pragmas, in one transaction per batch as the writer does, after the warm-up's rows.
    What no writer in Python can go below; the retention pass is left out. `bare`: into
    a `runs` table of the same columns without any index or constraint instead."""
    import sqlite3
    import uuid
    from datetime import datetime, timedelta, timezone

    from aioclock_core.runs import RunKind, RunOutcome, RunRecord
    from aioclock_core.stores._sqlite_schema import (
        INSERT_RUN,
        RUN_COLUMNS,
        RowTexts,
        create,
        run_row,
    )

    texts = RowTexts()
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    task_ids = [uuid.uuid4() for _ in range(HISTORY_TASKS)]

    def batch(first_second: int) -> list[tuple[object, ...]]:
        rows = []
        for second in range(first_second, first_second + int(HISTORY_BATCH)):
            at = start + timedelta(seconds=second)
            for index, task_id in enumerate(task_ids):
                record = RunRecord(
                    run_id=uuid.uuid4(),
                    task_id=task_id,
                    task_name=f"task-{index}",
                    kind=RunKind.SCHEDULE,
                    scheduled_for=at,
                    started_at=at + timedelta(microseconds=800),
                    ended_at=at + timedelta(microseconds=900),
                    duration=0.0001,
                    outcome=RunOutcome.SUCCEEDED,
                )
                rows.append(run_row(record, texts))
        return rows

    seconds = int(HISTORY_WARMUP + HISTORY_WINDOW)
    batches = [batch(second) for second in range(0, seconds, int(HISTORY_BATCH))]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    insert = INSERT_RUN
    if bare:
        connection.execute(f"CREATE TABLE runs ({RUN_COLUMNS})")
        marks = ", ".join("?" * len(RUN_COLUMNS.split(",")))
        insert = f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({marks})"
    else:
        create(connection)
    warmup = int(HISTORY_WARMUP / HISTORY_BATCH)
    timed = 0.0
    for number, rows in enumerate(batches):
        cpu = time.process_time()
        connection.execute("BEGIN")
        connection.executemany(insert, rows)
        connection.execute("COMMIT")
        if number >= warmup:
            timed += time.process_time() - cpu
    connection.close()
    return timed / sum(len(rows) for rows in batches[warmup:]) * 1e6


def history_section(reps: int) -> str:
    labels = {"memory": "memory (default)", "sqlite": "SQLite file"}
    results: dict[str, list[Sample]] = {"memory": [], "sqlite": []}
    for _ in range(reps):  # interleaved, so a drift in the machine's load hits both
        for store in ("memory", "sqlite"):
            with tempfile.TemporaryDirectory() as tmp:
                spec = "memory" if store == "memory" else str(Path(tmp) / "history.sqlite3")
                results[store].append(
                    measure(
                        HISTORY_TASKS,
                        console=False,
                        store=spec,
                        warmup=HISTORY_WARMUP,
                        window=HISTORY_WINDOW,
                    )
                )
    floors: list[float] = []
    bare_floors: list[float] = []
    for _ in range(reps):
        for bare, into in ((False, floors), (True, bare_floors)):
            with tempfile.TemporaryDirectory() as tmp:
                into.append(sqlite_insert_floor(Path(tmp) / "floor.sqlite3", bare=bare))
    rows = []
    for store, samples in results.items():
        per_firing = [s.cpu_share / s.firings_per_second * 1e6 for s in samples]
        rows.append(
            f"| {labels[store]} | {statistics.median(per_firing):.1f} µs "
            f"({min(per_firing):.1f}–{max(per_firing):.1f}) | {_median(samples, 'p50_ms')} "
            f"| {_median(samples, 'p99_ms')} |"
        )
    pairs = list(zip(results["memory"], results["sqlite"], strict=True))
    cpu_ratios = [sqlite.cpu_share / memory.cpu_share for memory, sqlite in pairs]
    p99_ratios = [sqlite.p99_ms / memory.p99_ms for memory, sqlite in pairs]
    cpu_extra = (statistics.median(cpu_ratios) - 1) * 100
    memory_per_firing = statistics.median(
        s.cpu_share / s.firings_per_second * 1e6 for s in results["memory"]
    )
    floor, bare_floor = statistics.median(floors), statistics.median(bare_floors)
    return "\n".join(
        [
            "## History: the cost of recording every run",
            "",
            f"1,000 `Every(1 s)` tasks served `--headless` for a {HISTORY_WINDOW:g} s window "
            "(it includes one pass of the SQLite store's retention, which comes every 60 s, "
            "and its batches, one every 5 s), with "
            "the default memory store and with a SQLite file (every run, skip and last "
            "firing recorded by the writer thread). CPU per firing is the process's CPU (all "
            "threads, sampled in-process) / firings. Memory and SQLite runs alternate; "
            f"medians of {reps} (min–max).",
            "",
            "| store | CPU per firing | lateness p50 | lateness p99 |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            f"SQLite recording costs **{cpu_extra:+.1f} %** CPU per firing over the memory "
            f"store (median of the {reps} paired ratios, "
            f"{(min(cpu_ratios) - 1) * 100:+.1f} to {(max(cpu_ratios) - 1) * 100:+.1f} %; "
            "target ≤ +25 %); lateness p99 SQLite / memory: "
            f"{statistics.median(p99_ratios):.2f} ({min(p99_ratios):.2f}–{max(p99_ratios):.2f}).",
            "",
            f"The floor: SQLite's own insert of the window's rows (built beforehand, so no "
            "Python per run; the store's schema and pragmas, one transaction per 5 s batch, "
            f"after the warm-up's; no retention pass) costs **{floor:.1f} µs** per run "
            f"({min(floors):.1f}–{max(floors):.1f}, {reps} runs in this process) = "
            f"**{floor / memory_per_firing * 100:+.0f} %** of the memory store's CPU per firing "
            "above. A store that writes one row per run into this schema costs at least that; "
            f"into a bare `runs` table of the same columns (no index, no unique run id) "
            f"**{bare_floor:.1f} µs** ({bare_floor / memory_per_firing * 100:+.0f} %).",
        ]
    )


MEMORY_TASKS = 2000
MEMORY_TIMES = (20.0, 60.0)
"""Seconds after the start at which the memory benchmark reads the RSS."""


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def rss_growth(tasks: int, root: Path = ROOT) -> tuple[float, float]:
    """RSS (MiB) of `clocktui APP --headless --no-history` with `tasks` Every(1 s) tasks at
    MEMORY_TIMES seconds after its start; `root` is the checkout whose code runs."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BENCH_TASKS=str(tasks), XDG_DATA_HOME=tmp, PYTHONPATH=str(root))
        env.pop("BENCH_OUT", None)
        args = [sys.executable, "-m", "clocktui", APP, "--factory", "--headless", "--no-history"]
        process = subprocess.Popen(
            args, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started = time.monotonic()
        readings = []
        try:
            for at in MEMORY_TIMES:
                time.sleep(max(0.0, started + at - time.monotonic()))
                readings.append(_rss_mib(process.pid))
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return readings[0], readings[1]


def memory_section(reps: int, baseline: Path | None) -> str:
    runs = {"this checkout": [rss_growth(MEMORY_TASKS) for _ in range(reps)]}
    if baseline is not None:
        runs[f"baseline ({baseline.name})"] = [
            rss_growth(MEMORY_TASKS, baseline) for _ in range(reps)
        ]
    rows = []
    for label, readings in runs.items():
        growth = [late - early for early, late in readings]
        rows.append(
            f"| {label} | {statistics.median(r[0] for r in readings):.0f} MiB "
            f"| {statistics.median(r[1] for r in readings):.0f} MiB "
            f"| **{statistics.median(growth):+.1f} MiB** "
            f"({min(growth):+.1f} to {max(growth):+.1f}) |"
        )
    early, late = MEMORY_TIMES
    return "\n".join(
        [
            "## Memory: the default history levels off",
            "",
            f"`clocktui APP --headless --no-history` with {MEMORY_TASKS:,} `Every(1 s)` tasks "
            f"(the default in-memory history); RSS read from /proc at {early:g} s and "
            f"{late:g} s after the start; medians of {reps} (min to max). Target: at most "
            "+15 MiB between the two.",
            "",
            f"| code | RSS at {early:g} s | RSS at {late:g} s | growth |",
            "| --- | --- | --- | --- |",
            *rows,
        ]
    )


def coordination_section() -> str:
    if shutil.which("redis-server") is None:
        return "## Replicas: cost of coordination\n\nNot measured: redis-server is not installed."
    output = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.coordination"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "## Replicas: cost of coordination\n\n" + output.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.extras")
    parser.add_argument("--only", choices=("console", "history", "memory", "coordination"))
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="memory and the console's flood row: also measure the code of this other "
        "checkout (e.g. a git worktree)",
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--window", type=float, default=15.0)
    args = parser.parse_args(argv)
    if importlib.util.find_spec("textual") is None:  # clocktui would not start: say why
        parser.error(
            f"this Python ({sys.executable}) lacks the project's dependencies, which these "
            "benchmarks start clocktui with: run them in the project's environment, e.g. "
            ".venv/bin/python -m tests.benchmarks"
        )
    jobs = {
        "console": lambda: console_section(args.reps, args.window, args.baseline),
        "history": lambda: history_section(args.reps),
        "memory": lambda: memory_section(args.reps, args.baseline),
        "coordination": coordination_section,
    }
    for name, job in jobs.items():
        if args.only and name != args.only:
            continue
        print(f"running {name} ...", flush=True)
        body = job()
        write_block(REPORT, name, body)
        print(body, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
