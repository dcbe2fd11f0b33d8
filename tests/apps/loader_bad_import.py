"""A module that imports a package that is not installed."""

from __future__ import annotations

import package_that_is_not_installed  # noqa: F401
