"""aioclock_core: asyncio periodic tasks with dependency injection (aioclock 0.3's API, fixed)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aioclock_core._di import Depends
from aioclock_core.app import AioClock
from aioclock_core.group import Group

if TYPE_CHECKING:
    from aioclock_core import triggers as triggers
    from aioclock_core.triggers import (
        At,
        Cron,
        Every,
        Forever,
        Once,
        OnShutDown,
        OnStartUp,
        OrTrigger,
    )

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

_FROM_TRIGGERS = frozenset(
    {"Once", "OnStartUp", "OnShutDown", "Every", "Forever", "At", "Cron", "OrTrigger"}
)


def __getattr__(name: str) -> Any:
    # The triggers are pydantic models, and pydantic is most of what importing them costs
    # (`python -X importtime`: pydantic and the trigger classes were about two thirds of
    # `import aioclock_core`). They load on first use, as APScheduler's trigger modules do:
    # `from aioclock_core import Every` still works, and pays for pydantic there.
    if name in _FROM_TRIGGERS or name == "triggers":
        # import_module, not `from aioclock_core import triggers`, which would ask this
        # very __getattr__ for the attribute before importing the submodule.
        triggers = importlib.import_module("aioclock_core.triggers")
        return triggers if name == "triggers" else getattr(triggers, name)
    raise AttributeError(f"module 'aioclock_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_TRIGGERS, "triggers"})
