"""FailureToasts: failed runs as notifications, at most one every few seconds, summed up
("3 tasks failed: …"), and none over a screen they would hide (the details' traceback)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from textual.app import App
from textual.timer import Timer

from aioclock_core.runs import RunRecord
from clocktui.formatting import cut_middle, inert, outcome_word

__all__ = ["FailureToasts", "TOAST_EVERY", "summarize"]

TOAST_EVERY = 5.0
"""Seconds at least between two failure notifications."""
_NAMES_SHOWN = 3
_NAME_CELLS = 28
"""Cells of a task's name in a toast (cut in the middle beyond)."""


def _short(name: str) -> str:
    return name if cell_len(name) <= _NAME_CELLS else cut_middle(name, _NAME_CELLS).rstrip()


def summarize(failures: Sequence[RunRecord]) -> tuple[str, str]:
    """The title and text of one notification for `failures` (in order, at least one)."""
    tasks: dict[str, list[RunRecord]] = {}
    for run in failures:
        tasks.setdefault(run.task_name, []).append(run)
    if len(tasks) == 1:
        name, runs = next(iter(tasks.items()))
        last = runs[-1]
        why = last.error_type or outcome_word(last.outcome)
        times = "" if len(runs) == 1 else f" {len(runs)} times"
        return "Run failed", f"{_short(name)} {outcome_word(last.outcome)}{times}: {why}"
    names = [_short(name) for name in tasks]
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = f" and {len(names) - _NAMES_SHOWN:,} more" if len(names) > _NAMES_SHOWN else ""
    return "Runs failed", f"{len(names):,} tasks failed: {shown}{more}"


class FailureToasts:
    """Shows failed runs on `app` as notifications: the first at once, later ones at most
    every `every` seconds, summed up. While the app's screen has `holds_toasts` set, they
    wait (its header counts the failing tasks) and come summed up when it is left.

    Args:
        app: The app that notifies.
        every: Seconds at least between two notifications.
        monotonic: The clock of `every`.
    """

    def __init__(
        self,
        app: App[int],
        every: float = TOAST_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.every = every
        self._monotonic = monotonic
        self._waiting: list[RunRecord] = []
        self._last_shown = -every
        self._timer: Timer | None = None
        self.shown = 0
        """Notifications shown so far."""
        self.quiet = False
        """Drop failures instead of showing them (screenshots and snapshot tests)."""

    def add(self, failures: Sequence[RunRecord]) -> None:
        """Failed runs that just arrived."""
        if not failures or self.quiet:
            return
        self._waiting.extend(failures)
        self._show_when_due()

    def _show_when_due(self) -> None:
        if self._timer is not None or not self._waiting:
            return
        wait = self._last_shown + self.every - self._monotonic()
        if wait <= 0 and not getattr(self.app.screen, "holds_toasts", False):
            self._show()
        else:
            self._timer = self.app.set_timer(max(wait, 0.5), self._due)

    def _due(self) -> None:
        self._timer = None
        self._show_when_due()

    def _show(self) -> None:
        if self.quiet:
            self._waiting = []
            return
        failures, self._waiting = self._waiting, []
        title, text = summarize(failures)
        self._last_shown = self._monotonic()
        self.shown += 1
        self.app.notify(
            inert(text, multiline=True),
            title=inert(title),
            severity="error",
            timeout=self.every,
            markup=False,
        )
