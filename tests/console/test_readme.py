"""The README agrees with the console: its keys are the help's, its screenshots come from
the demo it tells people to run, and its two commands work on a Python that refuses
`pip install` (PEP 668)."""

from __future__ import annotations

import re
from pathlib import Path

from clocktui import demo
from clocktui.screens.help import KEYS, NOTES
from tests.console.scenes import SCENES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    """The README's shell commands (its bash blocks)."""
    return re.findall(r"```bash\n(.+?)\n```", README, flags=re.DOTALL)


def test_the_readmes_keys_are_the_helps_keys() -> None:
    rows = re.findall(r"^\| `(.+?)` \| (.+?) \|$", README, flags=re.MULTILINE)
    assert rows == list(KEYS)
    for note in NOTES:
        assert " ".join(note.split()) in " ".join(README.split())


def test_the_readmes_screenshot_comes_from_the_demo_it_tells_people_to_run() -> None:
    assert "clocktui clocktui.demo:app" in commands()[0]
    assert "](screenshots/main.svg)" in README
    console = SCENES["main"].build()
    assert console.source.name == demo.app.name
    assert [task.name for task in console.source.app.tasks]  # type: ignore[attr-defined] == [task.name for task in demo.app.tasks]


def test_both_commands_install_into_a_venv_with_the_systems_pip() -> None:
    run, test = commands()[:2]
    for command in (run, test):
        first, install, *_ = command.split(" && ")
        assert first == "python3 -m venv --without-pip .venv"
        assert install.startswith("python3 -m pip --python .venv/bin/python install -e ")
    assert run.endswith("&& .venv/bin/clocktui clocktui.demo:app")
    assert test.endswith("&& .venv/bin/python -m pytest")


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands()[1] in ci.splitlines()
