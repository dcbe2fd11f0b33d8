"""What a simulation warns about, for `clocktui simulate` and the timeline screen: median run
lengths, tasks whose runs outlast their period, and herds of simultaneous firings."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from aioclock_core.simulation import SimulatedTask, Simulation

if TYPE_CHECKING:
    from clocktui.model import ConsoleModel

__all__ = ["HERD_SIZE", "Overrun", "median", "medians_of_model", "overruns"]

HERD_SIZE = 10
"""More firings than this at one instant are a herd."""


def median(durations: Iterable[float | None]) -> float | None:
    """The median of the known durations (None: there is none)."""
    known = [duration for duration in durations if duration is not None]
    return statistics.median(known) if known else None


def medians_of_model(model: ConsoleModel, tasks: Iterable[UUID]) -> dict[UUID, float]:
    """The median run length of each of `tasks` over the runs the console holds for it.

    The one place that reads durations off the model's runs (`TaskView.recent`)."""
    found = {}
    for task_id in tasks:
        view = model.tasks.get(task_id)
        value = None if view is None else median(run.duration for run in view.recent)
        if value is not None:
            found[task_id] = value
    return found


@dataclass(frozen=True)
class Overrun:
    """A task whose typical run outlasts the time between its firings.

    Attributes:
        task: The simulated task.
        median: Its median run length, in seconds.
        gap: The shortest time between two of its firings, in seconds.
    """

    task: SimulatedTask
    median: float
    gap: float


def overruns(simulation: Simulation, medians: Mapping[UUID, float]) -> list[Overrun]:
    """Tasks whose median run is longer than their period (times the runs allowed at once):
    their firings will be skipped as overlapping."""
    found = []
    for task in simulation.tasks:
        typical = medians.get(task.task.id)
        gap = task.shortest_gap() if typical is not None else None
        if (
            typical is not None
            and gap is not None
            and typical > gap * task.task.max_concurrent_runs
        ):
            found.append(Overrun(task, typical, gap))
    return found
