"""A module whose import takes long (a stuck connection): the CLI test presses Ctrl+C."""

from __future__ import annotations

import time

print("importing", flush=True)
time.sleep(30)
