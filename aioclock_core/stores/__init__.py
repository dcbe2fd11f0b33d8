"""Stores for run history and task state: memory (default), SQLite file, Redis (replicas)."""

from __future__ import annotations

from aioclock_core.stores.base import (
    Retention,
    RunRecord,
    SkipRecord,
    Store,
    StoreError,
    TaskRecord,
)
from aioclock_core.stores.memory import MemoryStore
from aioclock_core.stores.sqlite import SQLiteReader, SQLiteStore

__all__ = [
    "Store",
    "StoreError",
    "RunRecord",
    "SkipRecord",
    "TaskRecord",
    "Retention",
    "MemoryStore",
    "SQLiteStore",
    "SQLiteReader",
]
