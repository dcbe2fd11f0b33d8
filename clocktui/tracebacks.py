"""Tracebacks as a user reads them: each one starts at the user's own frame, not in the
scheduler, the thread pool or the libraries that called it, and names the user's files
relative to the current directory (narrow panes have no room for long paths)."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import aioclock_core

__all__ = ["from_user_frame", "is_library_path"]

_FRAME = '  File "'
_HEADER = "Traceback (most recent call last):"


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"]}
    roots.add(str(Path(aioclock_core.__file__).resolve().parent))
    return tuple(sorted(os.path.join(root, "") for root in roots if root))


_LIBRARY_ROOTS = _library_roots()


def is_library_path(path: str) -> bool:
    """Whether a frame's file belongs to Python, an installed package or aioclock_core."""
    if path.startswith("<frozen "):
        return True
    if "site-packages" in path or "dist-packages" in path:
        return True
    try:
        resolved = os.path.realpath(path)
    except (OSError, ValueError):
        resolved = path
    return resolved.startswith(_LIBRARY_ROOTS) or path.startswith(_LIBRARY_ROOTS)


def from_user_frame(text: str) -> str:
    """`text` (one or more chained tracebacks) with the frames before the first frame of
    the user's code left out of each traceback, and a line saying how many were; files
    under the current directory are named relative to it. A traceback with no user frame
    at all is kept whole: the fault is then in a library."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if line != _HEADER:
            continue
        frames, index = _frames(lines, index)
        first_user = next(
            (i for i, frame in enumerate(frames) if not is_library_path(_path(frame[0]))), 0
        )
        if first_user:
            noun = "frame" if first_user == 1 else "frames"
            out.append(f"  ({first_user} library {noun} above the task left out)")
        here = os.path.join(os.getcwd(), "")
        for frame in frames[first_user:]:
            out.append(frame[0].replace(f'"{here}', '"', 1))
            out.extend(frame[1:])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _frames(lines: list[str], index: int) -> tuple[list[list[str]], int]:
    """The frames of the traceback starting at `lines[index]`, each its File line and the
    indented lines under it; and the index after them."""
    frames: list[list[str]] = []
    while index < len(lines):
        line = lines[index]
        if line.startswith(_FRAME):
            frames.append([line])
        elif frames and line.startswith("    "):
            frames[-1].append(line)
        else:
            break
        index += 1
    return frames, index


def _path(frame_line: str) -> str:
    return frame_line[len(_FRAME) :].split('"', 1)[0]
