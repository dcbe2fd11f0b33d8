"""Snapshot tests: the console's layout in each scene (see scenes.py), compared as SVG."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.console.scenes import SCENES


@pytest.mark.parametrize("name", list(SCENES))
def test_console_looks_the_same(name: str, snap_compare: Callable[..., bool]) -> None:
    scene = SCENES[name]
    assert snap_compare(scene.build(), terminal_size=scene.size, run_before=scene.prepare)
