"""RunDelivery: the one path by which runs leave the scheduler, to its registered sinks."""

from __future__ import annotations

import asyncio
import logging

from aioclock_core.runs import RunRecord, RunSink

logger = logging.getLogger("aioclock")


class RunDelivery:
    """Collects the records of runs that started and ended during one turn of the loop
    and hands them to every sink at the end of the turn, in order; `idle()` delivers
    what is pending first, then tells the sinks.

    One batch per loop turn instead of one call per run: a burst of 10,000 firings is a
    few dozen calls per sink, not 20,000.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._sinks: tuple[RunSink, ...] = ()
        self._pending: list[RunRecord] = []
        self._scheduled = False
        self.wants_started = False
        """Whether any sink takes started runs (else none is built). Worked out when a
        sink comes or goes, or says its answer changed (`refresh`), not per run."""

    @property
    def sinks(self) -> tuple[RunSink, ...]:
        return self._sinks

    def add(self, sink: RunSink) -> None:
        self._sinks = (*self._sinks, sink)
        self.refresh()

    def remove(self, sink: RunSink) -> None:
        self._sinks = tuple(s for s in self._sinks if s is not sink)
        self.refresh()

    def refresh(self) -> None:
        self.wants_started = any(sink.wants_started for sink in self._sinks)

    def started(self, record: RunRecord) -> None:
        self._add(record)

    def finished(self, record: RunRecord) -> None:
        self._add(record)

    def _add(self, record: RunRecord) -> None:
        self._pending.append(record)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Deliver every pending record now (also called at shutdown)."""
        self._scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        ended: list[RunRecord] | None = None
        for sink in self._sinks:
            runs = batch
            if not sink.wants_started:
                if ended is None:
                    ended = [run for run in batch if run.outcome is not None]
                runs = ended
            if not runs:
                continue
            try:
                sink.deliver(runs)
            except Exception:
                logger.exception("Run sink %r raised; it stays registered", sink)

    def idle(self) -> None:
        self.flush()
        for sink in self._sinks:
            try:
                sink.idle()
            except Exception:
                logger.exception("Run sink %r raised in idle(); it stays registered", sink)

    def busy(self) -> None:
        for sink in self._sinks:
            try:
                sink.busy()
            except Exception:
                logger.exception("Run sink %r raised in busy(); it stays registered", sink)
