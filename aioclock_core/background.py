"""A scheduler beside sync code: an app served on its own event loop in a background
thread, steered from the caller's thread (a Flask or Django process, a plain script, the
console)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from aioclock_core._control import ThreadSafeControl

if TYPE_CHECKING:
    from aioclock_core.app import AioClock

__all__ = ["AppThread"]

T = TypeVar("T")
_STOP_MARGIN = 5.0
"""Seconds past the grace period that leaving the `with` block waits before it cancels
serve(), then as long again before it gives up on the thread."""


class AppThread:
    """Runs `app.serve()` on a new event loop in a thread of its own, so that neither the
    scheduler nor the caller's code can stall the other. `AioClock.run_in_thread()` makes
    one; as a context manager it starts the app, gives its thread-safe control, and on
    exit shuts it down gracefully (running runs get the grace period, the lifespan exits).

    Args:
        app: The app to serve.
        paused: Pause every task (for this session) before the first firing.
        grace: Seconds running runs get when the `with` block ends (default: the app's
            `shutdown_grace`).
        start_timeout: Seconds entering the `with` block waits for the app to start.
    """

    def __init__(
        self,
        app: AioClock,
        *,
        paused: bool = False,
        grace: float | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.paused = paused
        self.grace = grace
        self.start_timeout = start_timeout
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        """What serve() raised, if it failed (e.g. the lifespan raised)."""
        self.error_traceback: str | None = None
        self._thread = threading.Thread(target=self._run, name="aioclock-scheduler", daemon=True)
        self._stopped = threading.Event()
        self._started = threading.Event()
        self._serve_task: asyncio.Task[None] | None = None
        self._stop_grace: float | None = None
        self._stop_requests = 0
        self._delivered_requests = 0
        self.abandoned = False
        """True once `abandon()` gave up on the shutdown (a third stop request)."""
        self._on_stopped: list[Callable[[], None]] = []
        # Re-entrant: a signal handler may ask for a stop while the main thread is inside
        # one (a second SIGTERM during the first one's request_stop).
        self._lock = threading.RLock()

    # ----- life -------------------------------------------------------------------
    def __enter__(self) -> ThreadSafeControl:
        self.start()
        if not self.wait_started(self.start_timeout):
            self.stop(grace=0, timeout=2 * _STOP_MARGIN)
            raise TimeoutError(
                f"{self.app.name} did not start within {self.start_timeout:g} s (is its "
                "lifespan stuck?); pass run_in_thread(start_timeout=...) to wait longer"
            )
        if self.error is not None:
            raise RuntimeError(f"{self.app.name} failed to start: {self.error!r}") from self.error
        return self.control

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        grace = self.app.shutdown_grace if self.grace is None else self.grace
        limit = 2 * (grace + _STOP_MARGIN)
        if not self.stop(grace, timeout=limit):
            raise RuntimeError(
                f"{self.app.name}'s scheduler thread did not end within {limit:g} s of the "
                "shutdown (a run that blocks its event loop?)"
            )
        if self.error is not None and error is None:
            raise RuntimeError(f"{self.app.name} stopped with {self.error!r}") from self.error

    @property
    def control(self) -> ThreadSafeControl:
        """Pause, resume, run now, cancel, snapshots: callable from any thread."""
        return self.app.threadsafe

    def start(self) -> None:
        """Start serving in the scheduler thread (returns at once)."""
        self._thread.start()

    def wait_started(self, timeout: float) -> bool:
        """Wait until the app has started (every task planned) or serve() has ended;
        returns False if neither happened within `timeout` seconds."""
        return self._started.wait(timeout)

    @property
    def stopped(self) -> bool:
        """Whether serve() has returned (or raised) and the loop is closed."""
        return self._stopped.is_set()

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the scheduler thread) once serving has ended."""
        with self._lock:
            if not self._stopped.is_set():
                self._on_stopped.append(callback)
                return
        callback()

    def request_stop(self, grace: float | None = None) -> None:
        """Ask for a graceful shutdown (see `AioClock.shutdown`); does not wait. A second
        call hurries it (running runs are cancelled now, see `AioClock.request_shutdown`)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stop_requests += 1
            self._stop_grace = grace
            self.loop.call_soon_threadsafe(self._request_shutdown)

    def abandon(self) -> None:
        """Give up on the shutdown: cancel serve() and let the caller exit without waiting
        (a third stop request; the scheduler thread is a daemon)."""
        self.abandoned = True
        self.force_stop()

    def force_stop(self) -> None:
        """Cancel serve(): used when a graceful stop takes too long."""
        with self._lock:
            task = self._serve_task
            if task is not None and not self._stopped.is_set():
                self.loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for serving to end; returns whether it did."""
        return self._stopped.wait(timeout)

    def stop(self, grace: float | None = None, timeout: float = 10.0) -> bool:
        """Stop gracefully, then by cancellation; returns whether the thread ended in time."""
        if not self._thread.is_alive():
            return True
        self.request_stop(grace)
        if self.join(timeout / 2):
            return True
        self.force_stop()
        return self.join(timeout / 2)

    def call(self, function: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run `function` on the scheduler's loop; its result arrives in the future."""

        async def wrapper() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop)

    # ----- the scheduler thread -------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            try:
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                with self._lock:
                    self.loop.close()
                    self._stopped.set()
                    self._started.set()
                    callbacks, self._on_stopped = self._on_stopped, []
                for callback in callbacks:
                    callback()

    async def _serve(self) -> None:
        task = asyncio.ensure_future(self.app.serve(paused=self.paused))
        with self._lock:
            self._serve_task = task
        try:
            started = asyncio.ensure_future(self.app.wait_started())
            await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if not task.done():  # else serve() failed: `error` is set before `_started`
                self._started.set()
            if not task.done():
                self._request_shutdown()  # requests made before serve() could take them
            if not task.done():
                await self._serving()
            await task
        except asyncio.CancelledError:
            pass
        except Exception as error:
            self.error = error
            self.error_traceback = "".join(traceback.format_exception(error))
        finally:
            await self._served()

    async def _serving(self) -> None:
        """Called on the scheduler's loop once the app has started (a host starts what it
        serves beside the app here, e.g. clocktui's control socket)."""

    async def _served(self) -> None:
        """Called on the scheduler's loop once serve() has ended."""

    def _request_shutdown(self) -> None:
        # Each request reaches serve() once, when it can take it (after two, none matter).
        while self.app.is_running and self._delivered_requests < min(self._stop_requests, 2):
            self._delivered_requests += 1
            self.app.request_shutdown(self._stop_grace)
