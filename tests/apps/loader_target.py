"""A module the loader tests point at: one app, a factory, and things that are not apps."""

from __future__ import annotations

import sys

from aioclock_core import AioClock, Group

app = AioClock(name="loader")
application = app
group = Group(name="not an app")
answer = 42


def make_app() -> AioClock:
    return AioClock(name="from factory")


def make_number() -> int:
    return 7


def make_broken() -> AioClock:
    raise LookupError("the factory could not find its settings")


def make_exiting() -> AioClock:
    sys.exit(5)
