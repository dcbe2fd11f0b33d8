"""`python -m clocktui`: the same entry point as the `clocktui` console script."""

from __future__ import annotations

import sys

from clocktui.cli import main

if __name__ == "__main__":
    sys.exit(main())
