"""The trigger protocol: BaseTrigger (pure `next_fire_time` plus aioclock's legacy
methods), LoopController's counting, Forever, and the helpers the triggers share."""

from __future__ import annotations

import difflib
from abc import ABC
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationInfo, model_validator

from aioclock_core._clock import SYSTEM_CLOCK
from aioclock_core._trigger_kinds import Triggers, _as_utc

TriggerTypeT = TypeVar("TriggerTypeT")
_LOOP_COUNT = "_current_loop_count"
"""LoopController's key in `__pydantic_private__` (the name aioclock gave the attribute)."""


def _reject_bool(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be a number, got {value!r}")
    return value


class _SharedFieldsSet(set[str]):
    """A `__pydantic_fields_set__` shared by the triggers built with the same fields (see
    `BaseTrigger.model_post_init`); never added to."""

    def __repr__(self) -> str:
        return repr(set(self))  # what `model_fields_set` showed before it was shared


_SHARED_FIELDS_SETS: dict[tuple[type, frozenset[str]], _SharedFieldsSet] = {}


class BaseTrigger(BaseModel, ABC, Generic[TriggerTypeT]):
    """Base class of all triggers; subclass it (or LoopController) for a custom trigger.

    Attributes:
        type_: Name identifying the trigger kind; the discriminator in JSON.
        expected_trigger_time: When the trigger is next expected to fire (set by the runner).
        restarts_after_run: True when the next firing is counted from the end of a run.
    """

    # defer_build: schemas are built on first use, so importing the triggers stays cheap.
    # For that, the built-in triggers subclass the generic bases bare (`LoopController`, not
    # `LoopController[Literal[Triggers.EVERY]]`) and declare their `type_` Literal as a
    # field: pydantic builds a generic model's schema whenever it is parametrized with a
    # concrete type, defer_build or not. The parametrized bases cost four schema builds
    # and pydantic's plugin discovery at import: importing the triggers and building the
    # first Every took about 43 ms, 32 ms without (medians of 5, in-process perf_counter).
    # Custom triggers may still subclass `BaseTrigger[Literal["mine"]]`.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type_: TriggerTypeT
    expected_trigger_time: Union[datetime, None] = None
    restarts_after_run: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = cls.model_fields
            for name in data:
                if isinstance(name, str) and name not in known:
                    close = difflib.get_close_matches(name, list(known), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise ValueError(
                        f"{cls.__name__} has no field {name!r}: {hint}"
                        f"valid fields are {', '.join(sorted(known))}"
                    )
        return data

    def model_post_init(self, context: Any, /) -> None:
        # Triggers built with the same fields given share one `__pydantic_fields_set__`
        # instead of a set each (216 bytes: 568 -> 352 bytes per idle Every, tracemalloc;
        # benchmark: RSS per idle task). Pydantic adds to that set when a field is
        # assigned, so `__setattr__` first gives the trigger a set of its own.
        given = self.__pydantic_fields_set__
        key = (type(self), frozenset(given))
        shared = _SHARED_FIELDS_SETS.get(key)
        if shared is None:
            shared = _SHARED_FIELDS_SETS.setdefault(key, _SharedFieldsSet(given))
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    if not TYPE_CHECKING:  # as in pydantic: mypy would let any attribute be assigned

        def __setattr__(self, name: str, value: Any) -> None:
            given = self.__pydantic_fields_set__
            if type(given) is _SharedFieldsSet:
                object.__setattr__(self, "__pydantic_fields_set__", set(given))
            super().__setattr__(name, value)

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        """The next firing; pure, never waits.

        Args:
            after: None for the first firing of the timeline, else the previous firing (or
                any instant): the result is then the earliest firing strictly later.
            anchor: The aware instant at which the task's schedule started.

        Returns:
            An aware UTC datetime, or None when the trigger has no firings left (not
            counting ``max_loop_count``, which the scheduler counts).

        Raises:
            NotImplementedError: For triggers that only speak the legacy protocol.
        """
        raise NotImplementedError(f"{type(self).__name__} only implements the legacy protocol")

    def describe(self) -> str:
        """A short human description, e.g. ``every 10 s`` or ``cron 0 12 * * * UTC``."""
        return str(self.type_)

    def should_trigger(self) -> bool:
        """Legacy: False once the trigger should not fire any more."""
        return True

    async def trigger_next(self) -> None:
        """Legacy: wait until the next firing, then return.

        aioclock-style custom triggers override this; for triggers that implement
        `next_fire_time` it is derived from it (real clock)."""
        wait = await self.get_waiting_time_till_next_trigger()
        if wait:
            await SYSTEM_CLOCK.sleep(wait)

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        """Legacy: seconds until the next firing, or None if it will not fire again."""
        now = SYSTEM_CLOCK.now()
        following = self.next_fire_time(now, now)
        return None if following is None else (following - now).total_seconds()


class Forever(BaseTrigger):
    """Run again as soon as the previous run ends."""

    type_: Literal[Triggers.FOREVER] = Triggers.FOREVER
    restarts_after_run: ClassVar[bool] = True

    def next_fire_time(self, after: datetime | None, anchor: datetime) -> datetime | None:
        return _as_utc(anchor) if after is None else None

    def describe(self) -> str:
        return "forever"

    async def trigger_next(self) -> None:
        return None

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        return 0


class LoopController(BaseTrigger[TriggerTypeT], ABC, Generic[TriggerTypeT]):
    """A trigger that stops after ``max_loop_count`` firings (None: never stops).

    Attributes:
        max_loop_count: How many times the trigger fires in total, or None for no limit.
    """

    type_: TriggerTypeT
    max_loop_count: Union[PositiveInt, None] = None

    # The count is kept in `__pydantic_private__` only once it is not 0, instead of being
    # a pydantic private attribute with a default: pydantic gives each instance of a model
    # with private defaults a dict of its own (184 bytes: a quarter of an idle Every,
    # tracemalloc 752 -> 568 bytes; benchmark: RSS per idle task). Copies, pickles and ==
    # still carry it, as they carry private attributes.
    @property
    def _current_loop_count(self) -> int:
        private = self.__pydantic_private__
        return 0 if private is None else int(private.get(_LOOP_COUNT, 0))

    @_current_loop_count.setter
    def _current_loop_count(self, count: int) -> None:
        private = self.__pydantic_private__
        if count:
            if private is None:
                private = {}
                object.__setattr__(self, "__pydantic_private__", private)
            private[_LOOP_COUNT] = count
        elif private is not None:
            private.pop(_LOOP_COUNT, None)
            if not private and not type(self).__private_attributes__:
                object.__setattr__(self, "__pydantic_private__", None)  # equal to a fresh one

    def _increment_loop_counter(self) -> None:
        self._current_loop_count += 1

    def _count_suffix(self) -> str:
        return f" ×{self.max_loop_count}" if self.max_loop_count is not None else ""

    def should_trigger(self) -> bool:
        if self.max_loop_count is None:
            return True
        return self.max_loop_count > self._current_loop_count

    async def get_waiting_time_till_next_trigger(self) -> Union[float, None]:
        return 0
