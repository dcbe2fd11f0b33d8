"""When Python's cyclic garbage collector runs while an app serves: the scheduler's
collector policy (each part wins a row of docs/benchmarks.md, said where it is)."""

from __future__ import annotations

import asyncio
import gc

BURST = 256
"""Firings dispatched at one instant from which the collector waits for their runs."""
PAUSE_LIMIT = 0.5
"""Seconds (loop time) the collector waits at most after a burst."""


class CollectorPolicy:
    """Freezes what exists when serving starts, and holds the collector through bursts.

    Never re-enables a collector the program disabled itself, and never freezes then.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.pause_in_bursts = True
        self.freeze_at_start = True
        self._paused = False
        self._resume_timer: asyncio.TimerHandle | None = None
        self._froze = False

    # ----- the start's objects -----------------------------------------------------
    def freeze(self) -> None:
        """Called once every task is planned. Everything built so far (modules, tasks,
        triggers, timelines) lives as long as serving does: in the permanent generation,
        collections while serving scan only what serving creates. At 10,000 tasks a full
        collection took 130-190 ms otherwise (lateness with random phases). O(1)."""
        if self.freeze_at_start and gc.isenabled():
            gc.freeze()
            self._froze = True

    def thaw(self) -> None:
        """Serving stops: the frozen objects are the collector's again."""
        self.resume()
        if self._froze:
            self._froze = False
            gc.unfreeze()

    # ----- bursts --------------------------------------------------------------------
    def burst_starts(self) -> bool:
        """Before firings are dispatched: hold the collector (returns whether it did)."""
        if self.pause_in_bursts and not self._paused and gc.isenabled():
            gc.disable()
            return True
        return False

    def burst_ended(self, held: bool, fired: int, runs_going: bool) -> None:
        """After dispatching: let the collector run again, unless a burst's runs are
        going. Thousands of runs were just created and die within milliseconds: a
        collection now would promote them all and a full one would stall the loop.
        Collect once they are gone (`runs_ended`) or after PAUSE_LIMIT at most (it
        halves the CPU per firing of a 10,000-task herd)."""
        if not held:
            return
        if fired >= BURST and runs_going:
            self._paused = True
            self._resume_timer = self._loop.call_later(PAUSE_LIMIT, self.resume)
        else:
            gc.enable()

    def runs_ended(self) -> None:
        """No run is going any more."""
        if self._paused:
            self.resume()

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if self._resume_timer is not None:
                self._resume_timer.cancel()
                self._resume_timer = None
            gc.enable()
