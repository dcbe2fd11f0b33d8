"""The `clocktui` command, run in a subprocess: messages on stderr and exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clocktui import __version__
from clocktui.cli import main, with_command

ROOT = Path(__file__).parent.parent.parent
APPS = ROOT / "tests" / "apps"


def clocktui(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clocktui", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_version() -> None:
    result = clocktui("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"clocktui {__version__}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["my app:app"], "clocktui: error: Invalid target 'my app:app': expected"),
        (
            ["no_such_module:app", "--app-dir", str(APPS)],
            "clocktui: error: Module 'no_such_module' not found",
        ),
        (
            ["loader_target:ap", "--app-dir", str(APPS)],
            "clocktui: error: Module 'loader_target' has no attribute 'ap'; did you mean 'app'?",
        ),
        (
            ["loader_target:answer", "--app-dir", str(APPS)],
            "clocktui: error: 'loader_target:answer' is a int, not an AioClock app",
        ),
    ],
)
def test_load_errors_print_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = clocktui(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_user_exception_shows_user_traceback_and_exits_1() -> None:
    result = clocktui("loader_raises:app", "--app-dir", str(APPS))
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert 'loader_raises.py", line' in result.stderr
    assert "clocktui/loader.py" not in result.stderr
    assert result.stderr.rstrip().endswith(
        "clocktui: error: Importing 'loader_raises' failed: KeyError: 'DATABASE_URL'"
    )


def test_current_directory_is_importable() -> None:
    result = clocktui("loader_target:answer", cwd=APPS)
    assert result.returncode == 2 and "is a int" in result.stderr


def test_file_path_target_with_factory() -> None:
    result = clocktui(f"{APPS / 'loader_target.py'}:make_number", "--factory")
    assert result.returncode == 2 and "is a int, not an AioClock" in result.stderr


def test_headless_serves_until_sigterm_then_exits_0_after_the_lifespan() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clocktui",
            "headless_app:app",
            "--app-dir",
            str(APPS),
            "--headless",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 20
        seen = ""
        while "hello from a task" not in seen and time.monotonic() < deadline:
            seen += process.stderr.readline()
        assert "headless [hello]: hello from a task" in seen
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "lifespan exited" in rest


def test_headless_app_whose_lifespan_fails_exits_1_with_its_traceback() -> None:
    result = clocktui("lifespan_fails:app", "--app-dir", str(APPS), "--headless")
    assert result.returncode == 1
    assert "RuntimeError: cannot reach the database" in result.stderr


def test_help_lists_every_command_including_attach() -> None:
    result = clocktui("--help")
    assert result.returncode == 0
    listed = result.stdout.split("commands:")[1]
    for command in ("run", "attach", "history", "simulate"):
        assert f"\n    {command} " in listed
    assert "clocktui TARGET ...` is short for `clocktui run TARGET" in " ".join(
        result.stdout.split()
    )


@pytest.mark.parametrize("command", ["run", "attach", "history", "simulate"])
def test_each_command_has_its_own_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: clocktui {command} ")


@pytest.mark.parametrize(
    ("argv", "spelled_out"),
    [
        (["myapp:app"], ["run", "myapp:app"]),
        (["myapp:app", "--headless"], ["run", "myapp:app", "--headless"]),
        (["--app-dir", "src", "myapp:app"], ["run", "--app-dir", "src", "myapp:app"]),
        (["run", "myapp:app"], ["run", "myapp:app"]),
        (["history", "myapp:app", "--json"], ["history", "myapp:app", "--json"]),
        (["simulate", "myapp:app"], ["simulate", "myapp:app"]),
        (["--attach", "redis://h/0", "--app", "b"], ["attach", "redis://h/0", "--app", "b"]),
        (["--app", "b", "--attach=redis://h/0"], ["attach", "redis://h/0", "--app", "b"]),
        (["attach", "redis://h/0", "--app", "b"], ["attach", "redis://h/0", "--app", "b"]),
        (["--help"], ["--help"]),
        (["--version"], ["--version"]),
        ([], []),
    ],
)
def test_todays_spellings_are_aliases_of_the_subcommands(
    argv: list[str], spelled_out: list[str]
) -> None:
    assert with_command(argv) == spelled_out


def test_a_target_alone_runs_it_as_run_does() -> None:
    short, long = (
        clocktui(str(APPS / "loader_target.py:answer")),
        clocktui("run", str(APPS / "loader_target.py:answer")),
    )
    assert (short.returncode, short.stderr) == (long.returncode, long.stderr)
    assert short.returncode == 2 and "is a int, not an AioClock" in short.stderr


def test_attach_without_its_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--attach", "--app", "b"])
    assert exit.value.code == 2
    assert "the following arguments are required: TARGET" in capsys.readouterr().err
