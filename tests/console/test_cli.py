"""The `clocktui` command, run in a subprocess: messages on stderr and exit codes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clocktui import __version__
from clocktui.cli import main, with_command
from tests.console.conftest import ClocktuiProcess

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


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["loader_exits:app"],
            5,
            "clocktui: Importing 'loader_exits' called sys.exit(5), so clocktui exits with "
            "code 5: an app's module and factory must not exit",
        ),
        (
            ["loader_target:make_exiting", "--factory"],
            5,
            "clocktui: The factory 'loader_target:make_exiting' called sys.exit(5)",
        ),
        (
            ["loader_target:app", "--headless", "--db", ""],
            2,
            "clocktui: error: --db '' is empty: give the path of a history file, "
            "e.g. --db history.sqlite3",
        ),
        (
            ["loader_target:app", "--headless", "--db", str(APPS)],
            2,
            f"clocktui: error: --db '{APPS}' is a folder: give the path of a history file, "
            f"e.g. --db {APPS / 'history.sqlite3'}",
        ),
        (["history", "loader_target:app", "--db", str(APPS)], 2, "clocktui: error: --db '"),
    ],
)
def test_bad_input_gets_one_line_naming_it_and_the_fix(
    args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--app-dir", str(APPS)]) == code
    error = capsys.readouterr().err
    assert error.startswith(message)
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize(("app_dir", "problem"), [("no/such/dir", "does not exist"),
                                                  (__file__, "is a file")])  # fmt: skip
def test_an_app_dir_that_is_not_a_folder_is_named(
    app_dir: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["loader_target:app", "--app-dir", app_dir]) == 2
    assert capsys.readouterr().err == (
        f"clocktui: error: --app-dir {app_dir!r} {problem}: give the folder that holds the "
        "app's module, or leave --app-dir out to import from the current directory\n"
    )


def test_ctrl_c_during_import_says_where_in_one_line_and_exits_130() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "clocktui", "loader_slow_import:app", "--app-dir", str(APPS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "importing\n"  # the module is being imported
        process.send_signal(signal.SIGINT)
        _, error = process.communicate(timeout=20)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    # At the line that waits, or the print before it: the signal may beat the sleep.
    assert re.fullmatch(
        r"clocktui: Importing 'loader_slow_import' was interrupted \(Ctrl\+C\) at "
        r"loader_slow_import\.py:[78]\n",
        error,
    )


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


def test_headless_serves_until_sigterm_then_exits_0_after_the_lifespan(
    clocktui_process: Callable[..., ClocktuiProcess],
) -> None:
    process = clocktui_process("headless_app:app", "--app-dir", str(APPS), "--headless")
    process.wait_for("headless [hello]: hello from a task")
    process.process.send_signal(signal.SIGTERM)
    assert process.finish() == 0
    assert "lifespan exited" in process.stderr


def test_headless_second_sigterm_cancels_runs_now_and_still_runs_the_shutdown_steps(
    clocktui_process: Callable[..., ClocktuiProcess],
) -> None:
    process = clocktui_process("stubborn_app:app", "--app-dir", str(APPS), "--headless")
    process.wait_for("long run started")
    process.process.send_signal(signal.SIGTERM)
    process.wait_for("SIGTERM received: stopping gracefully (running runs get 60 s")
    process.process.send_signal(signal.SIGTERM)
    assert process.finish() == 0
    stderr = process.stderr
    assert "Second SIGTERM: stopping now (a third signal exits at once)" in stderr
    assert "Shutdown: cancelling 1 run(s) still going" in stderr
    steps = [step for step in ("shutdown task ran", "lifespan exit finished") if step in stderr]
    assert steps == ["shutdown task ran", "lifespan exit finished"]


def test_headless_third_sigterm_leaves_at_once_saying_so(
    clocktui_process: Callable[..., ClocktuiProcess],
) -> None:
    process = clocktui_process(
        "stubborn_app:app", "--app-dir", str(APPS), "--headless", STUBBORN_EXIT_HANGS="1"
    )
    process.wait_for("long run started")
    process.process.send_signal(signal.SIGTERM)
    process.wait_for("stopping gracefully")
    process.process.send_signal(signal.SIGTERM)
    process.wait_for("lifespan exit started")
    process.process.send_signal(signal.SIGTERM)
    assert process.finish(timeout=5) == 130
    assert process.lines[-1] == (
        "clocktui: left without waiting at the third stop request: the OnShutDown tasks "
        "and the lifespan exit may not have finished\n"
    )
    assert "lifespan exit finished" not in process.stderr


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
