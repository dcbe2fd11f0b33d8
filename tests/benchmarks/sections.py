"""Named blocks of docs/benchmarks.md that other benchmark scripts own and rewrite."""

from __future__ import annotations

import re
from pathlib import Path

_BLOCK = re.compile(r"<!-- (?P<name>[\w-]+):begin -->.*?<!-- (?P=name):end -->\n?", re.S)


def replace_block(text: str, name: str, body: str) -> str:
    """`text` with the block `name` set to `body` (appended if it is not there yet)."""
    block = f"<!-- {name}:begin -->\n{body.rstrip()}\n<!-- {name}:end -->\n"
    pattern = re.compile(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->\n?", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip() + "\n\n" + block


def keep_blocks(old: str, new: str) -> str:
    """`new` plus every named block of `old` (the main report is rewritten from scratch)."""
    for match in _BLOCK.finditer(old):
        name = match.group("name")
        body = match.group(0).split("-->\n", 1)[1].rsplit("<!--", 1)[0]
        new = replace_block(new, name, body)
    return new


def write_block(path: Path, name: str, body: str) -> None:
    """Set the block `name` of the file at `path`."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(replace_block(text, name, body), encoding="utf-8")
