"""Stores for run history and task state: memory (default), SQLite file, Redis (replicas).

`SQLiteStore`, `SQLiteReader` and `RedisStore` are imported on first use, so an app on
the default memory store never loads sqlite3 or redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioclock_core.stores.base import (
    Retention,
    RunRecord,
    SkipRecord,
    Store,
    StoreError,
    TaskRecord,
)
from aioclock_core.stores.memory import MemoryStore

if TYPE_CHECKING:
    from aioclock_core.stores.redis import RedisStore
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
    "RedisStore",
]

_LAZY = {
    "SQLiteStore": "aioclock_core.stores.sqlite",
    "SQLiteReader": "aioclock_core.stores.sqlite",
    "RedisStore": "aioclock_core.stores.redis",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aioclock_core.stores' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
