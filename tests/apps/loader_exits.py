"""A module that exits while being imported, as a script would."""

from __future__ import annotations

import sys

sys.exit(5)
