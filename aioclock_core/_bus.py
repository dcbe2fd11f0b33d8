"""Event bus: fans scheduler events out to subscribers without ever blocking the scheduler."""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

from aioclock_core.events import Event, RunFinished, RunStarted, Subscription, TaskScheduled
from aioclock_core.runs import RunRecord, RunSink

logger = logging.getLogger("aioclock")

BatchCallback = Callable[[Sequence[Event]], None]

_MAX_BATCH = 2048
_HANDOVER_DELAY = 0.005
"""Seconds events wait on the loop before going to the delivery thread in one piece."""


class _Subscriber:
    """One subscriber's callback and where it runs."""

    __slots__ = ("callback", "kinds", "on_loop")

    def __init__(
        self, callback: BatchCallback, on_loop: bool, kinds: frozenset[type[Event]] | None
    ) -> None:
        self.callback = callback
        self.on_loop = on_loop
        self.kinds = kinds

    def __repr__(self) -> str:
        return f"<subscriber {self.callback!r}>"


class EventBus:
    """Delivers events to batch callbacks on a delivery thread, and to async iterators.

    `publish` is called on the scheduler's loop and costs a queue put per kind of
    subscriber; with no subscriber at all `active` is False and the scheduler does not
    even build the event.
    """

    def __init__(self) -> None:
        self._threaded: list[_Subscriber] = []
        self._inline: list[_Subscriber] = []
        self._queues: list[_BoundedQueue] = []
        self._outbox: queue.SimpleQueue[list[Event] | threading.Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._handover: list[Event] = []
        self._handover_lock = threading.Lock()
        self._handover_scheduled = False
        self._threaded_kinds: frozenset[type[Event]] | None = None
        """Event types some thread subscriber wants (None: every type)."""
        self.active = False
        self.wants_runs = False
        """Whether anyone wants RunStarted/RunFinished (built on every firing otherwise not)."""
        self.wants_plans = False
        """Whether anyone wants TaskScheduled."""
        self.on_change: Callable[[], None] | None = None
        """Called when the subscribers change (the run delivery asks again whether anyone
        wants started runs)."""

    def subscribe(
        self,
        callback: BatchCallback,
        *,
        on_loop: bool = False,
        kinds: Iterable[type[Event]] | None = None,
    ) -> Subscription:
        """Call `callback` with batches of events, in order.

        By default the callback runs on the bus's delivery thread, so a slow one only
        delays its own deliveries. `on_loop=True` calls it on the scheduler's loop right
        away: for fast, non-blocking callbacks (tests, stores) that need events in step.
        `kinds` limits it to those event types, which spares the scheduler from building
        per-firing events nobody reads.
        """
        wanted = frozenset(kinds) if kinds is not None else None
        subscription = _Subscriber(callback, on_loop, wanted)
        with self._lock:
            if on_loop:
                self._inline = [*self._inline, subscription]
            else:
                self._threaded = [*self._threaded, subscription]
                self._start_thread()
            self._refresh()
        return Subscription(functools.partial(self._remove, subscription))

    async def iterate(self, max_pending: int = 10_000) -> AsyncIterator[Event]:
        """Yield events as they happen, on the scheduler's loop.

        A consumer that falls more than `max_pending` events behind loses the oldest
        ones (a warning says how many) rather than slowing the scheduler.
        """
        pending = _BoundedQueue(max_pending)
        with self._lock:
            self._queues = [*self._queues, pending]
            self._refresh()
        try:
            while True:
                yield await pending.get()
        finally:
            with self._lock:
                self._queues = [q for q in self._queues if q is not pending]
                self._refresh()

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber (call on the scheduler's loop)."""
        for subscription in self._inline:
            if subscription.kinds is not None and type(event) not in subscription.kinds:
                continue
            try:
                subscription.callback((event,))
            except Exception:
                logger.exception("Event subscriber %r raised; it stays subscribed", subscription)
        if self._threaded and (self._threaded_kinds is None or type(event) in self._threaded_kinds):
            # Buffered on the loop and handed over once per loop turn: waking the delivery
            # thread per event would make it fight the scheduler for the GIL mid-burst.
            with self._handover_lock:
                self._handover.append(event)
                scheduled = self._handover_scheduled
                self._handover_scheduled = True
            if not scheduled:
                asyncio.get_running_loop().call_later(_HANDOVER_DELAY, self.hand_over)
        for pending in self._queues:
            pending.put(event)

    def hand_over(self) -> None:
        """Pass events buffered on the loop to the delivery thread now."""
        with self._handover_lock:
            events, self._handover = self._handover, []
            self._handover_scheduled = False
        if events:
            self._outbox.put(events)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the delivery thread has handed over every event published so far."""
        self.hand_over()
        if self._thread is None:
            return True
        marker = threading.Event()
        self._outbox.put(marker)
        return marker.wait(timeout)

    def close(self) -> None:
        """Stop the delivery thread after it delivered what is queued."""
        self.hand_over()
        thread = self._thread
        if thread is not None:
            self._outbox.put(None)
            thread.join(timeout=5.0)
            self._thread = None

    def _remove(self, subscription: _Subscriber) -> None:
        with self._lock:
            self._inline = [s for s in self._inline if s is not subscription]
            self._threaded = [s for s in self._threaded if s is not subscription]
            self._refresh()

    def _refresh(self) -> None:
        self.active = bool(self._inline or self._threaded or self._queues)
        subscribers = [*self._inline, *self._threaded]
        everything = bool(self._queues) or any(s.kinds is None for s in subscribers)
        kinds: set[type[Event]] = set()
        for subscriber in subscribers:
            kinds.update(subscriber.kinds or ())
        threaded: set[type[Event]] = set()
        for subscriber in self._threaded:
            threaded.update(subscriber.kinds or ())
        self._threaded_kinds = (
            None if any(s.kinds is None for s in self._threaded) else frozenset(threaded)
        )
        self.wants_runs = everything or bool(kinds & {RunStarted, RunFinished})
        self.wants_plans = everything or TaskScheduled in kinds
        if self.on_change is not None:
            self.on_change()

    def _start_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._deliver, name="aioclock-events", daemon=True
            )
            self._thread.start()

    def _deliver(self) -> None:
        while True:
            item = self._outbox.get()
            batch: list[Event] = []
            markers: list[threading.Event] = []
            stop = False
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    batch.extend(item)
                if len(batch) >= _MAX_BATCH:
                    break
                try:
                    item = self._outbox.get_nowait()
                except queue.Empty:
                    break
            if batch:
                for subscription in self._threaded:
                    kinds = subscription.kinds
                    wanted = batch if kinds is None else [e for e in batch if type(e) in kinds]
                    if not wanted:
                        continue
                    try:
                        subscription.callback(wanted)
                    except Exception:
                        logger.exception(
                            "Event subscriber %r raised; it stays subscribed", subscription
                        )
            for marker in markers:
                marker.set()
            if stop:
                return


class _BoundedQueue:
    """A loop-side queue that drops its oldest item instead of growing without bound."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: asyncio.Queue[Event] = asyncio.Queue()
        self._dropped = 0

    def put(self, event: Event) -> None:
        if self._items.qsize() >= self._limit:
            self._items.get_nowait()
            self._dropped += 1
        self._items.put_nowait(event)

    async def get(self) -> Event:
        if self._dropped:
            logger.warning(
                "An events() consumer fell behind and lost %d events; consume faster "
                "or raise max_pending",
                self._dropped,
            )
            self._dropped = 0
        return await self._items.get()


class RunEvents(RunSink):
    """The bus as a run sink: publishes a RunStarted or RunFinished for each record, when
    anyone subscribed to them."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    @property
    def wants_started(self) -> bool:
        return self._bus.wants_runs

    def deliver(self, runs: Sequence[RunRecord]) -> None:
        bus = self._bus
        if not bus.wants_runs:
            return
        for run in runs:
            if run.ended_at is None:
                bus.publish(RunStarted(run.started_at, run))
            else:
                bus.publish(RunFinished(run.ended_at, run))
