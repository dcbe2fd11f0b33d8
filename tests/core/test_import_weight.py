"""What importing aioclock_core and reaching a first firing load: the scheduler, and not
pydantic, dependency injection, threads, stores or the simulation until they are used."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

LAZY_UNTIL_USED = (
    "fast_depends",
    "anyio",
    "croniter",
    "multiprocessing",
    "sqlite3",
    "redis",
    "aioclock_core.simulation",
    "aioclock_core.testing",
    "aioclock_core.api",
    "aioclock_core.stores.sqlite",
    "aioclock_core.stores.redis",
)
"""Modules an app with one async Every task without dependencies must not load up to
its first firing (the benchmarks' spawn-to-first-run path)."""

LAZY_AT_IMPORT = (
    *LAZY_UNTIL_USED,
    "pydantic",
    "pydantic_core",
    "aioclock_core.triggers",
    "aioclock_core._trigger_base",
)
"""Modules `import aioclock_core` must not load either (the triggers are pydantic models:
they load on first use of Every, Cron, ...)."""

FIRST_FIRING = """
import asyncio
from aioclock_core import AioClock, Every

async def main():
    app = AioClock()
    fired = asyncio.Event()

    @app.task(trigger=Every(seconds=1, first_run_strategy="immediate"))
    async def tick():
        fired.set()

    serving = asyncio.create_task(app.serve())
    await asyncio.wait_for(fired.wait(), timeout=20)
    serving.cancel()

asyncio.run(main())
"""


def modules_loaded_by(code: str) -> set[str]:
    """The module names in sys.modules after running `code` in a fresh interpreter."""
    report = "\nimport json as _json, sys as _sys\nprint(_json.dumps(sorted(_sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + report],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded_of(names: tuple[str, ...], loaded: set[str]) -> list[str]:
    return sorted(name for name in names if name in loaded)


def test_importing_the_package_loads_neither_pydantic_nor_optional_parts() -> None:
    assert loaded_of(LAZY_AT_IMPORT, modules_loaded_by("import aioclock_core")) == []


def test_a_trigger_name_loads_the_triggers_on_first_use() -> None:
    loaded = modules_loaded_by(
        "import aioclock_core, aioclock_core.triggers as triggers\n"
        "from aioclock_core import Every\n"
        "assert Every is triggers.Every and aioclock_core.Cron is triggers.Cron\n"
    )
    assert "aioclock_core.triggers" in loaded


def test_a_first_firing_loads_no_injection_threads_stores_nor_simulation() -> None:
    assert loaded_of(LAZY_UNTIL_USED, modules_loaded_by(FIRST_FIRING)) == []
