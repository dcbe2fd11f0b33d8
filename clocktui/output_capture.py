"""The hosted app's output while the console owns the terminal: `print()` and what child
processes write become log records (shown in the log pane), never characters drawn over
the screen.

Two pieces: `PrintCapture` swaps `sys.stdout` and `sys.stderr` for writers that log each
line on the writing thread (so a line printed during a run carries the run, and lands in
its `RunRecord.logs` too); `TerminalCapture` points file descriptors 1 and 2 at a pipe
that a thread reads line by line (what child processes and C code write), and gives the
console's driver a duplicate of the real terminal to draw on.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from types import TracebackType
from typing import TextIO

from textual.app import App
from textual.driver import Driver

__all__ = ["PrintCapture", "TerminalCapture", "PRINT_LOGGER", "OUTPUT_LOGGER"]

PRINT_LOGGER = "print"
"""The logger of lines the app's Python code prints."""
OUTPUT_LOGGER = "output"
"""The logger of lines written to the process's stdout or stderr by anything else (child
processes, C extensions)."""


class _LineLogger(io.TextIOBase):
    """A text stream whose every line becomes a log record (per thread, so lines printed
    by two threads at once are not mixed)."""

    def __init__(self, logger: logging.Logger, level: int, name: str) -> None:
        super().__init__()
        self._logger = logger
        self._level = level
        self._name = name
        self._local = threading.local()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def name(self) -> str:
        return self._name

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        local = self._local
        if getattr(local, "busy", False):
            # A handler is writing to this stream while it logs one of our lines: logging
            # it again would never end.
            return len(text)
        pending: str = getattr(local, "pending", "") + text
        *lines, local.pending = pending.split("\n")
        if lines:
            self._log(lines)
        return len(text)

    def flush(self) -> None:
        pending = getattr(self._local, "pending", "")
        if pending:
            self._local.pending = ""
            self._log([pending])

    def _log(self, lines: list[str]) -> None:
        self._local.busy = True
        try:
            for line in lines:
                self._logger.log(self._level, "%s", line.rstrip("\r"))
        finally:
            self._local.busy = False


class PrintCapture:
    """While installed, `print()` (to stdout: INFO; to stderr: WARNING) logs each line to
    the `PRINT_LOGGER` logger instead of writing it."""

    def __init__(self) -> None:
        logger = logging.getLogger(PRINT_LOGGER)
        self.stdout = _LineLogger(logger, logging.INFO, "<stdout>")
        self.stderr = _LineLogger(logger, logging.WARNING, "<stderr>")
        self._saved: tuple[TextIO, TextIO] | None = None

    def install(self) -> None:
        """Swap `sys.stdout` and `sys.stderr` for the line loggers."""
        if self._saved is None:
            self._saved = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = self.stdout, self.stderr

    def uninstall(self) -> None:
        """Log what is left of an unfinished line and put the streams back."""
        if self._saved is None:
            return
        for stream in (self.stdout, self.stderr):
            stream.flush()
        if sys.stdout is self.stdout:
            sys.stdout = self._saved[0]
        if sys.stderr is self.stderr:
            sys.stderr = self._saved[1]
        self._saved = None


class TerminalCapture:
    """Points file descriptors 1 and 2 at a pipe while the console runs; a thread logs
    each line read to the `OUTPUT_LOGGER` logger. A context manager around `App.run()`:
    it gives the app a driver that draws on a duplicate of the terminal.

    Does nothing unless both descriptors are terminals on a POSIX system (under tests,
    in a pipe or a file, output is not drawn over anything).
    """

    def __init__(self, app: App[int]) -> None:
        self.app = app
        self.terminal: TextIO | None = None
        self._saved: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None

    @staticmethod
    def available() -> bool:
        """Whether there is a terminal to protect."""
        return os.name == "posix" and os.isatty(1) and os.isatty(2)

    def __enter__(self) -> TerminalCapture:
        if not self.available():
            return self
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
        encoding = getattr(sys.__stderr__, "encoding", None) or "utf-8"
        self.terminal = os.fdopen(os.dup(2), "w", encoding=encoding, errors="replace")
        self._saved = (os.dup(1), os.dup(2))
        read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self._reader = threading.Thread(
            target=_log_lines, args=(read_end,), name="clocktui-output", daemon=True
        )
        self._reader.start()
        self.app.driver_class = _driver_on(self.terminal, self.app.driver_class)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._saved is None:
            return
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
        saved_out, saved_err = self._saved
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        self._saved = None
        if self._reader is not None:
            # The pipe ends when no process holds its write end: a child still running
            # may, so the reader is not waited for long (it is a daemon thread).
            self._reader.join(timeout=0.5)
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None


def _log_lines(read_end: int) -> None:
    logger = logging.getLogger(OUTPUT_LOGGER)
    pending = b""
    with open(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                logger.info("%s", line.decode("utf-8", "replace").rstrip("\r"))
    if pending:
        logger.info("%s", pending.decode("utf-8", "replace"))


def _driver_on(terminal: TextIO, base: type[Driver]) -> type[Driver]:
    """`base` (the platform's driver) drawing on `terminal` and sizing the screen from it."""

    class TerminalDriver(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self._file = terminal

        def _get_terminal_size(self) -> tuple[int, int]:
            try:
                size = os.get_terminal_size(terminal.fileno())
            except OSError:
                return super()._get_terminal_size()
            return size.columns or 80, size.lines or 25

    return TerminalDriver
