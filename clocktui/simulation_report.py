"""The output of `clocktui simulate`: a table per task with DST changes and warnings, or JSON
lines (one per firing, then a summary)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, TextIO
from uuid import UUID

from aioclock_core import _cron
from aioclock_core.simulation import DstTransition, Herd, SimulatedTask, Simulation, dst_transitions
from clocktui.forecast import Overrun, overruns
from clocktui.formatting import align_columns, format_duration

__all__ = ["SimulationReport", "write_human", "write_json_lines"]

LARGEST_HERDS = 5
"""Herds named one by one (the largest; the rest are counted)."""
NAMES_PER_HERD = 5


@dataclass(frozen=True)
class SimulationReport:
    """A simulation and what it warns about.

    Attributes:
        app_name: The app's name.
        simulation: The firings.
        medians: Median run length of the tasks with runs in the history (seconds).
        medians_source: Where the medians came from, in words.
        herd_size: More firings than this at one instant are a herd.
    """

    app_name: str
    simulation: Simulation
    medians: Mapping[UUID, float]
    medians_source: str
    herd_size: int

    @cached_property
    def herds(self) -> list[Herd]:
        return self.simulation.herds(self.herd_size)

    @cached_property
    def largest_herds(self) -> list[Herd]:
        return sorted(self.herds, key=lambda herd: (-herd.size, herd.at))[:LARGEST_HERDS]

    @cached_property
    def overruns(self) -> list[Overrun]:
        return overruns(self.simulation, self.medians)

    @cached_property
    def transitions(self) -> dict[str, list[DstTransition]]:
        """The offset changes of each zone the tasks follow, inside the window."""
        simulation = self.simulation
        zones = {task.zone for task in simulation.tasks}
        return {zone: dst_transitions(zone, simulation.start, simulation.end) for zone in zones}

    def herd_names(self, herd: Herd) -> list[str]:
        return [task.name for task in self.simulation.tasks_at(herd.at)]


def _local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(_cron.zone(zone))


def _shown(instant: datetime | None, zone: str) -> str:
    return "–" if instant is None else _local(instant, zone).isoformat(sep=" ")


def _offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02}:{minutes % 60:02}"


def _dst_words(change: DstTransition) -> str:
    old_wall = (change.at + change.before).replace(tzinfo=None)
    new_wall = (change.at + change.after).replace(tzinfo=None)
    jump = "spring forward" if change.shift > timedelta(0) else "fall back"
    return (
        f"DST {old_wall:%Y-%m-%d %H:%M} -> {new_wall:%H:%M} {change.zone}: clocks {jump} "
        f"{format_duration(abs(change.shift.total_seconds()))} "
        f"({_offset(change.before)} -> {_offset(change.after)})"
    )


def write_human(report: SimulationReport, out: TextIO) -> None:
    """The per-task table, DST changes under the tasks they touch, then warnings."""
    simulation = report.simulation
    days = (simulation.end - simulation.start) / timedelta(days=1)
    simulated = [task for task in simulation.tasks if task.not_simulated is None]
    out.write(
        f"{report.app_name}: {simulation.firing_count:,} firings of {len(simulated)} tasks "
        f"in {days:g} days, {simulation.start.isoformat(sep=' ')} to "
        f"{simulation.end.isoformat(sep=' ')}\n"
        "Computed from the triggers alone: no task body or lifespan ran. "
        f"Run lengths: {report.medians_source}.\n\n"
    )
    rows = [("TASK", "ZONE", "FIRINGS", "FIRST", "LAST", "MEDIAN RUN")]
    notes: dict[int, list[str]] = {}
    for task in simulated:
        firings = task.firings
        rows.append(
            (
                task.name,
                task.zone,
                f"{len(firings):,}",
                _shown(firings[0] if firings else None, task.zone),
                _shown(firings[-1] if firings else None, task.zone),
                format_duration(report.medians.get(task.task.id)) or "–",
            )
        )
        notes[len(rows) - 1] = [_dst_words(change) for change in report.transitions[task.zone]]
    for index, line in enumerate(align_columns(rows, right={2})):
        out.write(line + "\n")
        for note in notes.get(index, []):
            out.write(f"    {note}\n")
    skipped = [task for task in simulation.tasks if task.not_simulated is not None]
    if skipped:
        out.write("\nNot simulated:\n")
        for line in align_columns([(t.name, t.not_simulated or "") for t in skipped]):
            out.write(f"  {line}\n")
    _write_warnings(report, out)


def _write_warnings(report: SimulationReport, out: TextIO) -> None:
    if not report.overruns and not report.herds:
        out.write("\nNo warnings.\n")
        return
    out.write("\nWarnings:\n")
    for overrun in report.overruns:
        allowed = overrun.task.task.max_concurrent_runs
        at_once = f" x {allowed} runs at once" if allowed > 1 else ""
        out.write(
            f"  {overrun.task.name}: its median run ({format_duration(overrun.median)}) is "
            f"longer than the {format_duration(overrun.gap)}{at_once} between its firings, "
            "so firings will be skipped as overlapping: make runs shorter, fire less "
            "often, or raise max_concurrent_runs.\n"
        )
    if report.herds:
        out.write(
            f"  {len(report.herds):,} instants where more than {report.herd_size} tasks fire "
            "at once (a herd); the largest:\n"
        )
        for herd in report.largest_herds:
            names = report.herd_names(herd)
            shown = ", ".join(names[:NAMES_PER_HERD]) + (
                ", …" if len(names) > NAMES_PER_HERD else ""
            )
            out.write(f"    {herd.at.isoformat(sep=' ')}  {herd.size} tasks: {shown}\n")
        out.write(
            "  Spread them with jitter: start interval tasks at different offsets, or give "
            "cron and At tasks different minutes or seconds.\n"
        )


def write_json_lines(report: SimulationReport, out: TextIO) -> None:
    """One object per firing, in time order, then `{"summary": {...}}`."""
    for instant, task in report.simulation.in_order():
        local = _local(instant, task.zone).isoformat()
        out.write(json.dumps({"task": task.name, "at": instant.isoformat(), "local": local}))
        out.write("\n")
    out.write(json.dumps({"summary": summary(report)}) + "\n")


def _task_summary(report: SimulationReport, task: SimulatedTask) -> dict[str, Any]:
    firings = task.firings
    return {
        "task": task.name,
        "zone": task.zone,
        "firings": len(firings),
        "first": _local(firings[0], task.zone).isoformat() if firings else None,
        "last": _local(firings[-1], task.zone).isoformat() if firings else None,
        "median_run": report.medians.get(task.task.id),
        "not_simulated": task.not_simulated,
        "dst": [
            {"at": c.at.isoformat(), "before": _offset(c.before), "after": _offset(c.after)}
            for c in (report.transitions[task.zone] if task.not_simulated is None else [])
        ],
    }


def summary(report: SimulationReport) -> dict[str, Any]:
    """The JSON summary: the window, each task, and the warnings."""
    simulation = report.simulation
    return {
        "app": report.app_name,
        "start": simulation.start.isoformat(),
        "end": simulation.end.isoformat(),
        "firings": simulation.firing_count,
        "run_lengths": report.medians_source,
        "tasks": [_task_summary(report, task) for task in simulation.tasks],
        "overruns": [
            {"task": o.task.name, "median_run": o.median, "gap": o.gap} for o in report.overruns
        ],
        "herds": {
            "more_than": report.herd_size,
            "instants": len(report.herds),
            "largest": [
                {"at": h.at.isoformat(), "size": h.size, "tasks": report.herd_names(h)}
                for h in report.largest_herds
            ],
        },
    }
