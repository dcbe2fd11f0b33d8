"""Fixtures for store tests: every store behind one harness, and record builders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from aioclock_core.events import RunKind, RunOutcome, SkipReason
from aioclock_core.stores import (
    MemoryStore,
    Retention,
    RunRecord,
    SkipRecord,
    SQLiteStore,
    Store,
)
from tests.bounds import time_limit  # noqa: F401 - re-exported to the tests here

T = TypeVar("T")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
APP = "store-tests"
TIMEOUT = 10.0


def task_id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, name)


def started(name: str, at: datetime, **fields: object) -> RunRecord:
    """A run of task `name` that began at `at`."""
    values: dict[str, object] = {
        "run_id": uuid.uuid4(),
        "task_id": task_id(name),
        "task_name": name,
        "kind": RunKind.SCHEDULE,
        "scheduled_for": at,
        "started_at": at,
    }
    values.update(fields)
    return RunRecord(**values)  # type: ignore[arg-type]


def finished(run: RunRecord, seconds: float = 1.5, **fields: object) -> RunRecord:
    """`run` ended `seconds` later (succeeded unless `outcome` is given)."""
    values: dict[str, object] = {
        "ended_at": run.started_at + timedelta(seconds=seconds),
        "outcome": RunOutcome.SUCCEEDED,
        "duration": seconds,
    }
    values.update(fields)
    return replace(run, **values)  # type: ignore[arg-type]


def skipped(name: str, at: datetime, reason: SkipReason = SkipReason.OVERLAP) -> SkipRecord:
    return SkipRecord(task_id(name), name, at, reason, 1, at)


class Harness:
    """Opens a store of one kind; `reopen()` is what the next process would see."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.path = folder / "history.sqlite3"
        self.store: Store | None = None
        self.persistent = kind == "sqlite"

    def _make(self, retention: Retention | None) -> Store:
        if self.kind == "memory":
            return MemoryStore(retention)
        return SQLiteStore(self.path, retention)

    async def open(self, retention: Retention | None = None) -> Store:
        self.store = self._make(retention)
        await self.store.open(APP)
        return self.store

    async def reopen(self) -> Store:
        """Close the store and open it again (SQLite: a new object on the same file;
        memory: the same object, which is all a restart in one process keeps)."""
        assert self.store is not None
        retention = self.store.retention
        await self.store.close()
        if self.kind == "sqlite":
            self.store = self._make(retention)
        await self.store.open(APP)
        return self.store

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()


@pytest.fixture(params=["memory", "sqlite"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(request.param, tmp_path)
    yield harness
    await asyncio.wait_for(harness.close(), TIMEOUT)


@pytest.fixture
async def store(harness: Harness) -> Store:
    return await harness.open()
