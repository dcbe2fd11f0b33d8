"""ReplicaList: a fleet's processes, whether each is alive, and when it last heartbeated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from clocktui.formatting import format_instant
from clocktui.model import ConsoleModel

__all__ = ["ReplicaList"]


class ReplicaList(Static):
    """One line per replica, drawn again when the model's replicas change."""

    def __init__(
        self,
        model: ConsoleModel,
        now: Callable[[], datetime],
        zone: tzinfo,
        *,
        id: str | None = "replicas",
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.now = now
        self.zone = zone
        self._drawn: object = None

    def on_mount(self) -> None:
        self.border_title = "Replicas"
        self.redraw_changed()

    def redraw_changed(self) -> None:
        """Redraw if the replicas changed since the last draw."""
        replicas = self.model.replicas
        if replicas == self._drawn:
            return
        self._drawn = list(replicas)
        now = self.now()
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 2), expand=True)
        for title in ("Replica", "Liveness", "Started", "Last heartbeat"):
            table.add_column(title, no_wrap=True)
        for replica in replicas:
            table.add_row(
                Text(replica.name),
                Text("alive", "green") if replica.alive else Text("gone", "red"),
                Text(format_instant(replica.started_at, now, self.zone)),
                Text(format_instant(replica.seen_at, now, self.zone)),
            )
        if not replicas:
            table.add_row(Text("no replica has heartbeated yet", "dim"), "", "", "")
        self.update(table)
