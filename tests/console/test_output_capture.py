"""print() and child processes' output go to the log pane, never onto the screen."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from datetime import timezone
from pathlib import Path

from aioclock_core import AioClock, Every
from aioclock_core.testing import FakeClock
from clocktui.app import make_app
from clocktui.output_capture import OUTPUT_LOGGER, PRINT_LOGGER
from tests.apps.console_app import START
from tests.console.conftest import SIZE, advance, started, time_limit, until


@time_limit()
async def test_print_in_a_task_goes_to_the_log_pane_with_the_tasks_name() -> None:
    app = AioClock(name="printing", clock=FakeClock(start=START), loop_block_threshold=None)

    @app.task(trigger=Every(seconds=10), name="chatty")
    async def chatty() -> None:
        print("hello from print()")
        print("to stderr", file=sys.stderr)

    console = make_app(app, display_tz=timezone.utc, redraw_interval=0.02)
    async with console.run_test(size=SIZE) as pilot:
        await started(pilot)
        await advance(pilot, 10)
        await until(lambda: len(console.logbook.entries) >= 2, pilot, "the prints arrive")
        printed = [(e.logger, e.task_name, e.message) for e in console.logbook.entries]
        assert (PRINT_LOGGER, "chatty", "hello from print()") in printed
        assert (PRINT_LOGGER, "chatty", "to stderr") in printed
        view = next(iter(console.model.tasks.values()))
        assert [line.message for line in view.last_run.logs] == [  # type: ignore[union-attr]
            "hello from print()",
            "to stderr",
        ]
    assert sys.stdout is sys.__stdout__ or "PrintCapture" not in type(sys.stdout).__name__


CHILD_APP = """
    import subprocess
    from aioclock_core import AioClock, Once

    app = AioClock(name="children", loop_block_threshold=None)

    @app.task(trigger=Once(), name="spawner")
    def spawner() -> None:
        subprocess.run(["sh", "-c", "echo CHILD-OUT; echo CHILD-ERR >&2"], check=True)
"""

DRIVER = """
    import logging, os, sys
    from clocktui.output_capture import TerminalCapture
    from clocktui.app import make_app
    from children import app

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append((record.name, record.getMessage()))

    logging.getLogger().addHandler(Keep())
    logging.getLogger().setLevel(logging.INFO)
    console = make_app(app)
    capture = TerminalCapture(console)
    with capture:
        os.system("echo CHILD-OUT; echo CHILD-ERR >&2")
        print("driver", capture.terminal is not None, file=capture.terminal, flush=True)
    capture._reader.join(5)
    print("logged", sorted(message for name, message in seen if name == "{logger}"))
"""


def test_child_process_output_is_logged_not_written_on_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "children.py").write_text(textwrap.dedent(CHILD_APP))
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(DRIVER).replace("{logger}", OUTPUT_LOGGER))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout and stderr are the terminal (the pty)
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, str(script)], env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    text = output.decode(errors="replace").replace("\r", "")
    assert "driver True" in text  # the console's own file still reaches the terminal
    assert "logged ['CHILD-ERR', 'CHILD-OUT']" in text
    # Only the final report names them: nothing reached the terminal while captured.
    assert text.count("CHILD-OUT") == 1 and text.count("CHILD-ERR") == 1


def test_without_a_terminal_nothing_is_redirected() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clocktui.output_capture import TerminalCapture; "
            "print(TerminalCapture.available())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
