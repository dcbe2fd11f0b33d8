"""aioclock_core: asyncio periodic tasks with dependency injection (aioclock 0.3's API, fixed)."""

from __future__ import annotations

from aioclock_core._di import Depends
from aioclock_core.app import AioClock
from aioclock_core.group import Group
from aioclock_core.triggers import At, Cron, Every, Forever, Once, OnShutDown, OnStartUp, OrTrigger

__all__ = [
    "Depends",
    "Once",
    "OnStartUp",
    "OnShutDown",
    "Every",
    "Forever",
    "Group",
    "AioClock",
    "At",
    "Cron",
    "OrTrigger",
]

__version__ = "0.4.0"
