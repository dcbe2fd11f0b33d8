"""Sources of the console: where the tasks it shows live, and where its commands go."""

from __future__ import annotations

from clocktui.sources.base import TASK_VERBS, SentToFleet, Source, SourceUnavailable, Verb

__all__ = ["Source", "Verb", "TASK_VERBS", "SentToFleet", "SourceUnavailable"]
