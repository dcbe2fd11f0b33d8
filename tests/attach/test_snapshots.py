"""Snapshot tests of the attached console (scenes.py): the same layout as the hosting
console's, fed through the control socket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.attach.scenes import ATTACHED_SCENES, served_fixture_app
from tests.console.conftest import SIZE


@pytest.mark.parametrize("name", list(ATTACHED_SCENES))
def test_the_attached_console_looks_the_same(
    name: str, short_tmp: Path, snap_compare: Callable[..., bool]
) -> None:
    scene = ATTACHED_SCENES[name]
    with served_fixture_app(short_tmp) as (clock, path):
        assert snap_compare(scene.build(clock, path), terminal_size=SIZE, run_before=scene.prepare)
