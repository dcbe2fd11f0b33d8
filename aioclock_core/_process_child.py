"""The worker process of the process pool: runs jobs one at a time, and sends back each
job's result or error and, as they happen, its log records and printed lines."""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

PRINTED_LOGGER = "aioclock.process"
"""Logger name of the lines a process task prints (stdout at INFO, stderr at WARNING)."""


class _Sender:
    """Writes messages to the parent; one at a time, whichever thread of the job sends."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._connection.send_bytes(data)


class _ForwardRecords(logging.Handler):
    """The worker's only root handler: every record goes to the parent as plain values."""

    def __init__(self, sender: _Sender) -> None:
        super().__init__()
        self._sender = sender

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc_text = None
            if record.exc_info:
                exc_text = logging.Formatter().formatException(record.exc_info)
            message = record.getMessage()
            self._sender.send(
                ("log", record.name, record.levelno, message, record.created, exc_text)
            )
        except Exception:  # a line that cannot be sent must not fail the job
            pass

    def handleError(self, record: logging.LogRecord) -> None:
        pass  # stderr is forwarded too: reporting there could loop


class _PrintedLines(io.TextIOBase):
    """sys.stdout or sys.stderr of the worker: each printed line becomes a log record, so
    nothing a task prints lands on the parent's terminal (a console's screen)."""

    def __init__(self, sender: _Sender, level: int) -> None:
        self._sender = sender
        self._level = level
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._send(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            line, self._pending = self._pending, ""
            self._send(line)

    def _send(self, line: str) -> None:
        try:
            self._sender.send(("log", PRINTED_LOGGER, self._level, line, time.time(), None))
        except Exception:
            pass


def _raised(error: BaseException) -> tuple[Any, ...]:
    """The reply for a job that raised: the error itself if it survives pickling (its
    class may not: a custom __init__), and always its type, text and traceback."""
    text = "".join(traceback.format_exception(error))
    try:
        copy: BaseException | None = pickle.loads(pickle.dumps(error, pickle.HIGHEST_PROTOCOL))
    except Exception:
        copy = None
    return ("raised", copy, type(error).__name__, str(error), text)


def _reply(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    try:
        result = func(*args, **kwargs)
        if inspect.iscoroutine(result):
            result = asyncio.run(_awaited(result))
    except BaseException as error:  # SystemExit in a job fails the job, not the worker
        return _raised(error)
    try:
        pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        return _raised(
            TypeError(
                f"the return value of {getattr(func, '__qualname__', func)!r}, a "
                f"{type(result).__name__}, cannot be pickled back to the scheduler ({error}); "
                "return plain data (numbers, strings, lists, dicts, dataclasses)"
            )
        )
    return ("returned", result)


async def _awaited(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return await coroutine


def serve_jobs(connection: Connection) -> None:
    """The worker's main loop: a job is `(func, args, kwargs, log level)` pickled; an
    empty message or a closed connection ends the worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    sender = _Sender(connection)
    forward = _ForwardRecords(sender)
    sys.stdout = _PrintedLines(sender, logging.INFO)
    sys.stderr = _PrintedLines(sender, logging.WARNING)
    root = logging.getLogger()
    while True:
        try:
            payload = connection.recv_bytes()
        except (EOFError, OSError):
            return
        if not payload:
            return
        try:
            func, args, kwargs, level = pickle.loads(payload)
        except BaseException as error:  # the task's module failed to import here
            sender.send(_raised(error))
            continue
        root.handlers = [forward]  # a module's basicConfig() must not print here as well
        root.setLevel(level)
        reply = _reply(func, args, kwargs)
        sys.stdout.flush()
        sys.stderr.flush()
        sender.send(reply)
