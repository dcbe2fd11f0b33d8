"""clocktui: a live terminal console that hosts and drives an aioclock_core app."""

from __future__ import annotations

from aioclock_core import __version__ as _core_version

__all__ = ["__version__"]

__version__ = _core_version
"""The console ships in the same distribution as the core, so they share a version."""
