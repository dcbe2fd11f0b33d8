"""Host: the app on its own loop in a background thread (the core's `AppThread`), with the
control socket `clocktui attach` talks to served beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioclock_core.background import AppThread

if TYPE_CHECKING:
    from aioclock_core import AioClock
    from clocktui.control_server import ControlServer

__all__ = ["Host"]


class Host(AppThread):
    """Serves `app` in a scheduler thread for the console and `--headless`.

    Args:
        app: The app to serve.
        paused: Pause every task (for this session) before the first firing.
        control: A control socket served on the scheduler's loop while the app serves.
    """

    def __init__(
        self, app: AioClock, *, paused: bool = False, control: ControlServer | None = None
    ) -> None:
        super().__init__(app, paused=paused)
        self.control_server = control

    async def _serving(self) -> None:
        if self.control_server is not None:
            await self.control_server.start(self.app)

    async def _served(self) -> None:
        if self.control_server is not None:
            await self.control_server.close()
