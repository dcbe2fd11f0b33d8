"""The attached console served to a browser by textual-serve, driven in headless Chromium
as a person would: open the page, click into the terminal, press p on the first task, and
that task stops firing in the fleet."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.replica_app import APP_NAME
from tests.replicas.conftest import free_port
from tests.replicas.fleet import Replica, ReplicaFleet, all_runs, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGE_LIMIT = 60.0
"""Real seconds the page may take to show the console (a process per tab starts)."""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)

SERVE = """
import sys
from textual_serve.server import Server

Server(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2])).serve()
"""


@pytest.fixture
def replicas(fleet: ReplicaFleet) -> list[Replica]:
    """One replica with two tasks; the `fleet` fixture kills it when the test ends."""
    return fleet.start(["r1"], TASKS="2", INTERVAL="0.3")


@pytest.fixture
def served_console(redis_url: str, tmp_path: Path) -> Iterator[str]:
    """textual-serve on 127.0.0.1 serving `clocktui attach` of the fleet; yields its URL."""
    port = free_port()
    clocktui = Path(sys.executable).parent / "clocktui"
    command = f"{clocktui} attach {redis_url}?app={APP_NAME}"
    log = (tmp_path / "textual-serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, command, str(port)], stdout=log, stderr=log
    )
    try:
        if not wait_until(lambda: _listening(port), 20):
            raise AssertionError((tmp_path / "textual-serve.log").read_text())
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def runs_of(url: str) -> Counter[str]:
    import asyncio

    return Counter(run.task_name for run in asyncio.run(all_runs(url)))


def paused_in_redis(url: str, name: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        prefix = f"clocktui:{{{APP_NAME}}}"
        for task_id in client.smembers(f"{prefix}:tasks"):
            state = client.hgetall(f"{prefix}:task:{task_id}")
            if state.get("name") == name:
                return state.get("paused") == "1"
        return False
    finally:
        client.close()


def test_p_in_the_browser_pauses_the_task_in_the_fleet(
    replicas: list[Replica], served_console: str, redis_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(served_console)
            page.wait_for_selector(".textual-terminal.-connected", timeout=PAGE_LIMIT * 1000)
            page.click("#terminal")  # as a person would: the terminal takes the keys
            # The first task (sorted by name) is selected once the first read of Redis is
            # shown; until then p has nothing to pause, so press it until the fleet hears.
            deadline = time.monotonic() + PAGE_LIMIT
            while not paused_in_redis(redis_url, "task-000"):
                assert time.monotonic() < deadline, "p in the browser never reached the fleet"
                page.keyboard.press("p")
                wait_until(lambda: paused_in_redis(redis_url, "task-000"), 1.0, 0.05)
            page.screenshot(path=str(tmp_path / "browser.png"))
        finally:
            browser.close()
    settled = runs_of(redis_url)
    time.sleep(1.5)  # five periods of the tasks
    later = runs_of(redis_url)
    assert later["task-000"] <= settled["task-000"] + 1  # a run under way may still end
    assert later["task-001"] >= settled["task-001"] + 3  # the other task goes on
    print(f"browser test: {time.monotonic() - started:.1f} s", file=sys.stderr)
    assert os.path.getsize(tmp_path / "browser.png") > 0
