"""ConfirmScreen: asks once before something hard to undo (quit with runs in flight, pause
or resume every task, cancel a run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from clocktui.model import TaskView
from clocktui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from clocktui.app import ClockConsole

__all__ = ["ConfirmScreen", "ask_cancel", "ask_pause_all", "ask_quit"]


class ConfirmScreen(ModalScreen[bool]):
    """A question at the bottom of the screen: the same key again or `y` confirms (True);
    any other key declines (False).

    Args:
        question: What is about to happen.
        key: The key that asked (pressing it again confirms).
        verb: What confirming does, for the hint ("Quit", "Pause all"…).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, key: str, verb: str) -> None:
        super().__init__()
        self.question = question
        self.key = key
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(
                f"{self.key} again or y: {self.verb.lower()} · any other key: no",
                id="confirm-hint",
                markup=False,
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-box").border_title = f"{self.verb}?"

    def on_key(self, event: events.Key) -> None:
        if event.key == "ctrl+q":  # the app's quit-at-once binding stays in force
            return
        event.stop()
        event.prevent_default()
        self.dismiss(event.key in (self.key, "y") or event.character in (self.key, "y"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def ask_quit(console: ClockConsole) -> None:
    """`q`: quit, once confirmed while runs of a hosted app are in flight (they would be
    cut short; an attached console leaves the app running, so it does not ask)."""
    running = sum(view.running for view in console.model.tasks.values())
    source = console.source
    if not running or not source.hosts_app or console.stop_requests or source.stopped:
        console.action_quit()
        return
    grace = f"{source.shutdown_grace:g} s"
    if running == 1:
        question = f"Quit? 1 run is in flight: it gets {grace} to finish, then is cancelled."
    else:
        question = (
            f"Quit? {running:,} runs are in flight: they get {grace} to finish, then the "
            "rest are cancelled."
        )
    console.push_screen(
        ConfirmScreen(question, key="q", verb="Quit"),
        lambda yes: console.action_quit() if yes else None,
    )


def ask_pause_all(console: ClockConsole) -> None:
    """`P`: pause every task, or resume them all when all are paused, once confirmed."""
    model = console.model
    total = len(model.tasks)
    _, paused, _, _ = model.counts()
    controller = console.controller
    if total and paused == total:
        question = f"Resume all {total:,} tasks? Each fires again at its next firing."
        verb, command = "Resume all", controller.resume_all
    else:
        question = f"Pause all {total:,} tasks? None fires until they are resumed."
        verb, command = "Pause all", controller.pause_all
    console.push_screen(
        ConfirmScreen(question, key="P", verb=verb), lambda yes: command() if yes else None
    )


def ask_cancel(console: ClockConsole, view: TaskView, header: StatusHeader) -> None:
    """`c`: cancel the task's running run, once confirmed (nothing to ask when none is)."""
    if not view.running:
        header.flash(f"{view.name}: no run to cancel", "warning")
        return
    runs = "run" if view.running == 1 else f"{view.running} runs"
    console.push_screen(
        ConfirmScreen(f"Cancel the {runs} of {view.name} going now?", key="c", verb="Cancel run"),
        lambda yes: console.controller.cancel(view) if yes else None,
    )
