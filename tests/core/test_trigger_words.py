"""The short human descriptions of triggers that the console shows."""

from __future__ import annotations

import warnings

import pytest

from aioclock_core.triggers import (
    At,
    BaseTrigger,
    Cron,
    Every,
    Forever,
    Once,
    OnShutDown,
    OnStartUp,
    OrTrigger,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    START_UP, SHUT_DOWN = OnStartUp(), OnShutDown()

DESCRIPTIONS = [
    (Every(seconds=10), "every 10 s"),
    (Every(seconds=90), "every 1 min 30 s"),
    (Every(minutes=1, seconds=30), "every 1 min 30 s"),
    (Every(hours=2), "every 2 h"),
    (Every(days=1), "every 1 d"),
    (Every(weeks=1), "every 7 d"),
    (Every(seconds=0.25), "every 250 ms"),
    (Every(seconds=1.5), "every 1 s 500 ms"),
    (Every(seconds=10, max_loop_count=3), "every 10 s ×3"),
    (Every(seconds=10, first_run_strategy="immediate"), "every 10 s"),
    (Cron(cron="0 12 * * *", tz="Asia/Kolkata"), "cron 0 12 * * * Asia/Kolkata"),
    (Cron(cron="*/5 * * * *", tz="UTC", max_loop_count=2), "cron */5 * * * * UTC ×2"),
    (At(hour=14, at="every sunday", tz="UTC"), "at 14:00 on Sundays UTC"),
    (At(hour=9, minute=30, second=15, tz="Europe/Berlin"), "at 09:30:15 daily Europe/Berlin"),
    (Once(), "once"),
    (Forever(), "forever"),
    (START_UP, "on start-up"),
    (SHUT_DOWN, "on shutdown"),
    (OrTrigger(triggers=[Once(), Every(seconds=5)]), "once or every 5 s"),
]


@pytest.mark.parametrize(("trigger", "words"), DESCRIPTIONS)
def test_trigger_describes_itself_in_short_words(trigger: BaseTrigger, words: str):
    assert trigger.describe() == words
