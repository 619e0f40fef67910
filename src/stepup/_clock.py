"""Time, injected: every component reads the clock it was given, so tests freeze it."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "FrozenClock", "system_clock"]


class Clock(Protocol):
    """A callable that returns the current Unix time in seconds."""

    def __call__(self) -> float: ...


#: The real wall-clock time: ``time.time`` itself, which protected routes read on every
#: request (a function around it would add a call to each).
system_clock: Clock = time.time


class FrozenClock:
    """A clock that moves only when told to, for tests and walkthroughs.

    :param now: the Unix time to start at.
    """

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        :param seconds: how far; negative values are refused.
        :raises ValueError: for a negative step.
        """
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self.now += seconds
