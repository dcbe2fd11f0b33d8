"""TaskFilter: the task table's filter query, parsed once and matched against each task.

A query is terms separated by spaces, all of which a task must match: a word matches a
task whose name or group contains it (any case; quote a phrase with spaces), `group:NAME`
a task of that group (several `group:` terms: any of them), and `is:failing`,
`is:running`, `is:paused`, `is:late` a task in that condition.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from clocktui.model import TaskView

__all__ = ["TaskFilter", "CONDITIONS", "LATE_AFTER", "is_late"]

LATE_AFTER = timedelta(seconds=2)
"""How late a run may start, or a firing may be overdue, before the task counts as late."""


def is_late(view: TaskView, now: datetime) -> bool:
    """Whether the task's last run started more than `LATE_AFTER` after its scheduled
    instant, or its next firing is overdue by more than that (the scheduler is behind)."""
    run = view.last_run
    if run is not None and run.started_at - run.scheduled_for > LATE_AFTER:
        return True
    due = view.next_fire_time
    return due is not None and not view.paused and now - due > LATE_AFTER


CONDITIONS: dict[str, Callable[[TaskView, datetime], bool]] = {
    "failing": lambda view, now: view.failing,
    "running": lambda view, now: view.running > 0,
    "paused": lambda view, now: view.paused,
    "late": is_late,
}
"""What each `is:` term asks of a task."""


@dataclass(frozen=True)
class TaskFilter:
    """A parsed query (see the module); `problems` lists the terms it could not read."""

    text: str = ""
    words: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TaskFilter:
        """Read `text`; an unknown `is:` term is kept in `problems` and matches nothing."""
        try:
            terms = shlex.split(text)
        except ValueError:  # an unclosed quote while the user is still typing
            terms = text.replace('"', " ").replace("'", " ").split()
        words: list[str] = []
        groups: list[str] = []
        conditions: list[str] = []
        problems: list[str] = []
        for term in terms:
            key, colon, value = term.partition(":")
            key = key.casefold()
            if colon and key == "is":
                condition = value.casefold()
                if condition in CONDITIONS:
                    conditions.append(condition)
                else:
                    problems.append(term)
            elif colon and key == "group":
                groups.append(value.casefold())
            else:
                words.append(term.casefold())
        return cls(text, tuple(words), tuple(groups), tuple(conditions), tuple(problems))

    @property
    def active(self) -> bool:
        """Whether the query has any term at all."""
        return bool(self.words or self.groups or self.conditions or self.problems)

    @property
    def changes_with_runs(self) -> bool:
        """Whether which tasks match can change without the query changing (`is:` terms)."""
        return bool(self.conditions)

    def matches(self, view: TaskView, now: datetime) -> bool:
        """Whether the task matches every term."""
        if self.problems:
            return False
        if self.groups and view.group.casefold() not in self.groups:
            return False
        if self.words:
            name, group = view.name.casefold(), view.group.casefold()
            if not all(word in name or word in group for word in self.words):
                return False
        return all(CONDITIONS[condition](view, now) for condition in self.conditions)

    def explain_no_match(self) -> str:
        """What to tell the user when no task matches."""
        if self.problems:
            known = ", ".join(f"is:{name}" for name in CONDITIONS)
            return f"Unknown term {self.problems[0]!r}: try {known} or group:NAME"
        return f"No task matches {self.text.strip()!r}"
