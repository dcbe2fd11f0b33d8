"""Host: serves an AioClock on its own event loop in a dedicated thread, and stops it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from aioclock_core import AioClock

if TYPE_CHECKING:
    from clocktui.control_server import ControlServer

__all__ = ["Host"]

T = TypeVar("T")


class Host:
    """Runs `app.serve()` in a thread of its own, so neither the scheduler nor the
    screen can stall the other.

    Args:
        app: The app to serve.
        paused: Pause every task as soon as the scheduler has started.
        control: A control socket served on the scheduler's loop while the app serves.
    """

    def __init__(
        self, app: AioClock, *, paused: bool = False, control: ControlServer | None = None
    ) -> None:
        self.app = app
        self.paused = paused
        self.control = control
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        """What serve() raised, if it failed (e.g. the lifespan raised)."""
        self.error_traceback: str | None = None
        self._thread = threading.Thread(target=self._run, name="aioclock-scheduler", daemon=True)
        self._stopped = threading.Event()
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
    def start(self) -> None:
        """Start serving in the scheduler thread (returns at once)."""
        self._thread.start()

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
            if not task.done():
                self._request_shutdown()  # requests made before serve() could take them
            if self.control is not None and not task.done():
                await self.control.start(self.app)
            await task
        except asyncio.CancelledError:
            pass
        except Exception as error:
            self.error = error
            self.error_traceback = "".join(traceback.format_exception(error))
        finally:
            if self.control is not None:
                await self.control.close()

    def _request_shutdown(self) -> None:
        # Each request reaches serve() once, when it can take it (after two, none matter).
        while self.app.is_running and self._delivered_requests < min(self._stop_requests, 2):
            self._delivered_requests += 1
            self.app.request_shutdown(self._stop_grace)
