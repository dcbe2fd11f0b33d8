"""The public surface: aioclock's names, our modules' __all__, and no UI imports in the core."""

from __future__ import annotations

import importlib
import subprocess
import sys

import aioclock_core

AIOCLOCK_NAMES = {
    "Depends", "Once", "OnStartUp", "OnShutDown", "Every", "Forever", "Group",
    "AioClock", "At", "Cron", "OrTrigger",
}  # fmt: skip

PUBLIC_MODULES = [
    "aioclock_core.api",
    "aioclock_core.background",
    "aioclock_core.events",
    "aioclock_core.exceptions",
    "aioclock_core.logs",
    "aioclock_core.simulation",
    "aioclock_core.state",
    "aioclock_core.stores",
    "aioclock_core.coordination",
    "aioclock_core.task",
    "aioclock_core.testing",
    "aioclock_core.triggers",
]


def test_top_level_exports_exactly_aioclocks_names() -> None:
    assert set(aioclock_core.__all__) == AIOCLOCK_NAMES
    assert isinstance(aioclock_core.__version__, str)
    for name in AIOCLOCK_NAMES:
        assert getattr(aioclock_core, name) is not None


def test_every_public_module_lists_what_it_exports() -> None:
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert module.__all__, module_name
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"


def test_aioclock_exception_and_api_names_exist() -> None:
    from aioclock_core.api import (  # noqa: F401
        TaskMetadata,
        get_metadata_of_all_tasks,
        run_specific_task,
        run_with_injected_deps,
    )
    from aioclock_core.exceptions import BaseAioClockException, TaskIdNotFound  # noqa: F401
    from aioclock_core.triggers import BaseTrigger, LoopController, TriggerT  # noqa: F401


def test_the_core_never_imports_textual_or_rich() -> None:
    code = (
        "import sys, aioclock_core, aioclock_core.api, aioclock_core.testing, "
        "aioclock_core.ext.fast\n"
        "ui = ('textual', 'rich', 'clocktui')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
