"""`clocktui history` reads the runs an app's replicas wrote to Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from aioclock_core.testing import serving
from clocktui.cli import main
from tests.apps import replica_app

TARGET = "tests/apps/replica_app.py:build"


@pytest.fixture
def runs_in_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve the replica app (its own RedisStore) until it has a few runs in Redis."""
    for name, value in {
        "REDIS_URL": redis_url,
        "REPLICA": "history-writer",
        "TASKS": "2",
        "INTERVAL": "0.1",
        "RUN_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    app = replica_app.build()

    async def serve_a_while() -> None:
        async with serving(app):
            while sum(s.run_count for s in app.snapshots()) < 4:
                await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(serve_a_while(), 20))
    yield redis_url


def test_history_reads_the_apps_own_redis_store(
    runs_in_redis: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", TARGET, "--factory", "--json", "--limit", "3"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 3
    assert {run["replica"] for run in runs} == {"history-writer"}
    assert runs == sorted(runs, key=lambda run: run["started_at"], reverse=True)


def test_history_of_one_task_from_a_redis_url_given_as_db(
    runs_in_redis: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["history", TARGET, "task-001", "--factory", "--db", runs_in_redis])
    table = capsys.readouterr().out.splitlines()
    assert code == 0 and table[0].split() == ["STARTED", "TASK", "OUTCOME", "DURATION", "ERROR"]
    assert len(table) > 1
    assert all(line.split()[2:4] == ["task-001", "ok"] for line in table[1:])


def test_history_says_when_redis_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setenv("REPLICA", "nobody")
    assert main(["history", TARGET, "--factory"]) == 2
    assert "Cannot reach Redis at redis://127.0.0.1:9/0" in capsys.readouterr().err
