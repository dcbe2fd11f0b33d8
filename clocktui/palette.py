"""TaskCommands: "Run <task>", "Pause <task>", "Resume <task>" in the command palette."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["TaskCommands"]

_DISCOVERY_LIMIT = 30
"""Commands listed before the user types: enough to browse, cheap with 5,000 tasks."""


class TaskCommands(Provider):
    """One command per task and verb; pause or resume depending on its state."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], None], str]]:
        console: ClockConsole = self.app  # type: ignore[assignment]
        controller = console.controller
        if controller.read_only:
            return
        for view in list(console.model.tasks.values()):
            yield f"Run {view.name}", partial(controller.run_now, view), "Start a run now"
            verb, action = (
                ("Resume", controller.resume) if view.paused else ("Pause", controller.pause)
            )
            yield f"{verb} {view.name}", partial(action, view), view.trigger

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)

    async def discover(self) -> Hits:
        for index, (text, callback, help_text) in enumerate(self._commands()):
            if index >= _DISCOVERY_LIMIT:
                return
            yield DiscoveryHit(text, callback, help=help_text)
