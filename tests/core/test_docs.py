"""The user guide's examples run: every ```python block in docs/*.md is executed.

Each block runs in-process, in a fresh module named ``example`` (so
an ``if __name__ == "__main__":`` guard shows how to start an app without starting it
here), compiled under the filename ``docs/<file>.md:block<N>`` (N counts the file's
python blocks from 1) with line numbers matching the Markdown file, so a failure points
at the line of the guide. A block whose first line is ``# continued`` runs after the
blocks it continues, in their namespace. A block whose first line is
``# requires: NAME`` is skipped when the package NAME is not installed (Flask). Blocks
may call ``asyncio.run``; each has a few seconds before it is interrupted.

Fences that must not run use another language (```text, ```bash); a bare ``` fence
is refused, so no example is skipped by accident.
"""

from __future__ import annotations

import linecache
import re
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXCLUDED = re.compile(r"benchmarks(-py[\d.]+)?\.md")  # measured tables: the benchmark runner's
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ALLOWED_LANGUAGES = {"python", "text", "bash", "console", "toml", "sql"}
CONTINUED = "# continued"
REQUIRES = re.compile(r"^# requires: ([\w.]+)$")
MODULE_NAME = "example"
BLOCK_TIMEOUT = 5.0
"""Real seconds one block (with the blocks it continues) may take."""


@dataclass(frozen=True)
class Block:
    """One ```python block of a guide page."""

    page: str
    number: int
    line: int
    code: str

    @property
    def filename(self) -> str:
        return f"docs/{self.page}:block{self.number}"

    @property
    def continues(self) -> bool:
        return self.code.lstrip().startswith(CONTINUED)

    @property
    def requires(self) -> str | None:
        """The package this block needs, if its first line names one."""
        match = REQUIRES.match(self.code.lstrip().split("\n", 1)[0])
        return match.group(1) if match else None


def pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if not EXCLUDED.fullmatch(p.name))


def fences(page: Path) -> Iterator[tuple[str, int, str]]:
    """(language, first code line, code) of every fenced block of `page`."""
    text = page.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start(2)) + 1
        yield match.group(1).strip(), line, match.group(2)


def python_blocks(page: Path) -> list[Block]:
    found = [(line, code) for language, line, code in fences(page) if language == "python"]
    return [Block(page.name, n, line, code) for n, (line, code) in enumerate(found, start=1)]


ALL_BLOCKS = [block for page in pages() for block in python_blocks(page)]


def chain(block: Block) -> list[Block]:
    """`block` preceded by the blocks it continues (in order)."""
    same_page = [b for b in ALL_BLOCKS if b.page == block.page and b.number <= block.number]
    start = len(same_page) - 1
    while start > 0 and same_page[start].continues:
        start -= 1
    return same_page[start:]


def _run(block: Block, namespace: dict[str, Any]) -> None:
    source = "\n" * (block.line - 1) + block.code
    linecache.cache[block.filename] = (len(source), None, source.splitlines(True), block.filename)
    exec(compile(source, block.filename, "exec"), namespace)


def _too_slow(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"a docs example ran longer than {BLOCK_TIMEOUT:g} s")


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.filename for b in ALL_BLOCKS])
def test_docs_example_runs(block: Block) -> None:
    import importlib.util

    for part in chain(block):
        if part.requires and importlib.util.find_spec(part.requires) is None:
            pytest.skip(f"{part.filename} needs {part.requires}, which is not installed")
    module = ModuleType(MODULE_NAME)  # a real module: pydantic looks models' modules up
    saved = sys.modules.get(MODULE_NAME)
    sys.modules[MODULE_NAME] = module
    can_alarm = hasattr(signal, "setitimer")
    if can_alarm:
        previous = signal.signal(signal.SIGALRM, _too_slow)
        signal.setitimer(signal.ITIMER_REAL, BLOCK_TIMEOUT)
    try:
        for part in chain(block):
            _run(part, module.__dict__)
    finally:
        if saved is None:
            sys.modules.pop(MODULE_NAME, None)
        else:
            sys.modules[MODULE_NAME] = saved
        if can_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def test_the_guide_has_its_pages() -> None:
    names = {p.name for p in pages()}
    expected = {
        "index.md",
        "getting-started.md",
        "triggers.md",
        "dependencies.md",
        "lifecycle.md",
        "overlap-and-misfires.md",
        "events.md",
        "control.md",
        "testing.md",
        "migrating.md",
        "executors.md",
        "sync-code.md",
    }
    assert expected <= names


@pytest.mark.parametrize("page", pages(), ids=[p.name for p in pages()])
def test_every_fence_names_a_known_language(page: Path) -> None:
    for language, line, _ in fences(page):
        assert language in ALLOWED_LANGUAGES, (
            f"docs/{page.name}:{line}: fence language {language!r}; use ```python for an "
            f"example that runs, or one of {sorted(ALLOWED_LANGUAGES - {'python'})}"
        )


@pytest.mark.parametrize("page", pages(), ids=[p.name for p in pages()])
def test_first_block_of_a_page_does_not_continue(page: Path) -> None:
    blocks = python_blocks(page)
    assert not blocks or not blocks[0].continues, (
        f"docs/{page.name}: block1 has nothing to continue"
    )


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", pages(), ids=[p.name for p in pages()])
def test_relative_links_point_at_existing_files(page: Path) -> None:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"docs/{page.name}: broken link {target!r}"


SQL_BLOCKS = [
    (page.name, line, code)
    for page in pages()
    for language, line, code in fences(page)
    if language == "sql"
]


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history file of a few minutes of an app whose tasks succeed, fail and log, in the
    last hour (the docs' queries look at the last day)."""
    import asyncio
    import logging
    from datetime import datetime, timedelta, timezone

    from aioclock_core import AioClock, Every
    from aioclock_core.stores import SQLiteStore
    from aioclock_core.testing import FakeClock, serving

    path = tmp_path_factory.mktemp("docs") / "reports.sqlite3"
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    clock = FakeClock(start=start)
    app = AioClock(name="reports", clock=clock, store=SQLiteStore(path))
    log = logging.getLogger("docs.reports")

    @app.task(trigger=Every(seconds=30), name="poll")
    async def poll() -> int:
        await clock.sleep(0.2)
        return 3

    @app.task(trigger=Every(minutes=1), name="upload")
    async def upload() -> None:
        log.warning("uploading 3 files")
        raise ConnectionError("upload server reset the connection")

    async def serve() -> None:
        async with serving(app):
            await clock.advance(minutes=5)

    asyncio.run(serve())
    return path


@pytest.mark.parametrize(
    ("page", "line", "query"), SQL_BLOCKS, ids=[f"{p}:{n}" for p, n, _ in SQL_BLOCKS]
)
def test_docs_sql_queries_run_on_a_history_file(
    history_file: Path, page: str, line: int, query: str
) -> None:
    import sqlite3

    db = sqlite3.connect(f"{history_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(query).fetchall()
    except sqlite3.Error as error:
        raise AssertionError(f"docs/{page}:{line}: the query fails: {error}") from None
    finally:
        db.close()
    assert rows, f"docs/{page}:{line}: the query finds nothing in a history with failures"


def test_the_history_page_has_its_queries() -> None:
    assert sum(page == "history.md" for page, _, _ in SQL_BLOCKS) >= 3


def test_the_history_pages_query_by_time_seeks_in_the_index_of_start_times(
    history_file: Path,
) -> None:
    import sqlite3

    by_time = [query for page, _, query in SQL_BLOCKS if "started_at >" in query]
    assert by_time, "docs/history.md has no query over a time window"
    db = sqlite3.connect(f"{history_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        for query in by_time:
            plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "SEARCH runs USING INDEX runs_by_time" in plan, plan
    finally:
        db.close()
