"""Cost of an attached console to the app: process CPU of a headless app of N tasks on
`Every(1 s)` (all firing together), alone and with one client subscribed to its control
socket, and the bytes it sends. Run `python -m tests.benchmarks.attach [N ...]`; prints a
Markdown table (docs/attach.md quotes it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).parents[2]
WARM_UP, WINDOW = 6.0, 10.0
"""Seconds before measuring, and measured."""


def measure(tasks: int) -> tuple[float, float, float]:
    """CPU share alone, CPU share attached, MB/s sent to the client."""
    path = Path(tempfile.mkdtemp(prefix="clocktui-bench-")) / "bench.sock"
    app = subprocess.Popen(
        [
            *(sys.executable, "-m", "clocktui", "run", "tests.benchmarks.bench_apps:make"),
            *("--factory", "--headless", "--no-history", "--socket", str(path)),
        ],
        env={**os.environ, "BENCH_TASKS": str(tasks)},
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        while not path.exists():
            time.sleep(0.2)
        time.sleep(WARM_UP)
        alone = _cpu_share(app.pid)
        client = socket.socket(socket.AF_UNIX)
        client.connect(str(path))
        client.sendall(b'{"kind":"hello","protocol":1}\n')
        client.sendall(b'{"kind":"request","id":1,"verb":"subscribe"}\n')
        received = [0]

        def read() -> None:
            for line in client.makefile("rb"):
                received[0] += len(line)

        threading.Thread(target=read, daemon=True).start()
        time.sleep(WARM_UP / 2)
        before = received[0]
        attached = _cpu_share(app.pid)
        sent = (received[0] - before) / WINDOW / 1e6
        client.close()
        return alone, attached, sent
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(60)


def _cpu_share(pid: int) -> float:
    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start_cpu, start = cpu(), time.monotonic()
    time.sleep(WINDOW)
    return (cpu() - start_cpu) / (time.monotonic() - start)


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [1000, 5000]
    print("| tasks | headless CPU | with one attached console | sent |")
    print("| --- | --- | --- | --- |")
    for count in counts:
        alone, attached, sent = measure(count)
        print(f"| {count:,} | {alone:.1%} | {attached:.1%} | {sent:.2f} MB/s |")


if __name__ == "__main__":
    main()
