"""RunDelivery: the one path by which runs leave the scheduler, to its registered sinks."""

from __future__ import annotations

import asyncio
import logging

from aioclock_core._entry import Run
from aioclock_core.runs import RunRecord, RunSink

logger = logging.getLogger("aioclock")


class RunDelivery:
    """Collects the records of runs that started and ended during one turn of the loop
    and hands them to every sink at the end of the turn, in order; `idle()` delivers
    what is pending first, then tells the sinks.

    One batch per loop turn instead of one call per run: a burst of 10,000 firings is a
    few dozen calls per sink, not 20,000. A start waits as the engine's own `Run` and
    its record is built when the batch is handed over, only if a sink takes it: sinks
    that want every start get it; those that only track runs in flight
    (`wants_every_start` False) get it only if the run is still going then, so a short
    run that started and ended within the batch is its finished record alone.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._sinks: tuple[RunSink, ...] = ()
        self._pending: list[Run | RunRecord] = []
        """In order: a run that started (its record not built yet), or a finished run."""
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

    def started(self, run: Run) -> None:
        self._add(run)

    def finished(self, record: RunRecord) -> None:
        self._add(record)

    def _add(self, item: Run | RunRecord) -> None:
        self._pending.append(item)
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
        every: list[RunRecord] | None = None
        going: list[RunRecord] | None = None
        for sink in self._sinks:
            if not sink.wants_started:
                if ended is None:
                    ended = [item for item in batch if type(item) is RunRecord]
                runs = ended
            elif sink.wants_every_start:
                if every is None:
                    every = _with_starts(batch)
                runs = every
            else:
                if going is None:
                    # A run has its finished record (`Run.record`) once it ended: its end
                    # is in this batch, after its start. Starts already built are reused.
                    records = every if every is not None else _with_starts(batch)
                    going = [
                        record
                        for item, record in zip(batch, records, strict=True)
                        if not isinstance(item, Run) or item.record is None
                    ]
                runs = going
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


def _with_starts(batch: list[Run | RunRecord]) -> list[RunRecord]:
    """The batch as records: each start's record built from its `Run`."""
    return [item.started_record() if isinstance(item, Run) else item for item in batch]
