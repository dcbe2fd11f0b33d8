"""Startup reference: the plain asyncio floor after building one pydantic model.

Not a scheduler. It is what any scheduler whose triggers are pydantic v2 models validated
at construction (the aioclock API ours keeps) pays before its first run: pydantic's
import, one model class shaped like `Every`, and its first validation (which builds the
schema and runs pydantic's plugin discovery). The rest is the floor worker.
"""

from __future__ import annotations

from typing import Literal, Union

from floor_worker import FixedRateLoops
from harness import main
from pydantic import BaseModel, Field, PositiveInt


class Every(BaseModel):
    seconds: float = Field(default=0, ge=0)
    first_run_strategy: Literal["wait", "immediate"] = "wait"
    max_loop_count: Union[PositiveInt, None] = None


Every(seconds=1, first_run_strategy="immediate")

if __name__ == "__main__":
    main(FixedRateLoops())
