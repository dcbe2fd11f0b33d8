"""A module whose import raises inside the user's own code."""

from __future__ import annotations


def read_settings() -> dict[str, str]:
    raise KeyError("DATABASE_URL")


settings = read_settings()
