"""LoopThread: an event loop of its own in a daemon thread, for a remote source's I/O (so
decoding thousands of runs never competes with the screen's loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from clocktui.sources.base import SourceUnavailable, failed_future

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """Runs one main coroutine on a private loop until it returns or `stop` is called."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._main: Callable[[], Coroutine[Any, Any, None]] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `main()` in the thread (returns at once)."""
        self._main = main
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coroutine` on the loop; its result arrives in the future."""
        try:
            return asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError:  # the loop is closed: the source was closed
            coroutine.close()
            return failed_future(SourceUnavailable("the console is closing"))

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel the main coroutine and wait (up to `timeout` seconds) for the thread."""
        task = self._task
        if task is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(task.cancel)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        assert self._main is not None
        asyncio.set_event_loop(self.loop)
        try:
            self._task = self.loop.create_task(self._main())
            with contextlib.suppress(asyncio.CancelledError):
                self.loop.run_until_complete(self._task)
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
                for task in pending:
                    task.cancel()
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()
