"""Write screenshots/*.svg from the snapshot scenes: `python -m tests.console.make_screenshots`."""

from __future__ import annotations

import sys
from pathlib import Path

from textual._doc import take_svg_screenshot

from tests.console.scenes import EXTRA_SCENES, SCENES

OUTPUT = Path(__file__).resolve().parent.parent.parent / "screenshots"


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    for name, scene in {**SCENES, **EXTRA_SCENES}.items():
        svg = take_svg_screenshot(
            app=scene.build(),
            terminal_size=scene.size,
            run_before=scene.prepare,
            title=f"clocktui: {name}",
        )
        # Tracebacks name files by absolute path: show them relative to the project.
        svg = svg.replace(f"{OUTPUT.parent}/", "")
        path = OUTPUT / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        print(f"wrote {path.relative_to(OUTPUT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
