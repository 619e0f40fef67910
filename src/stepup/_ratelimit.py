"""Rate limits, with the ``limits`` library.

Limits live in the same place as everything else: :class:`StoreWindowStorage` is a
``limits`` storage over any stepup store (so ``sqlite://`` limits hold across processes),
read through stepup's injected clock. Backends with a native ``limits`` storage (Redis)
use that instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import MovingWindowRateLimiter

from ._clock import Clock
from ._errors import RateLimited, StoreUnavailable
from .stores import Store

__all__ = ["Limit", "RateLimiter", "StoreWindowStorage"]

_KIND = "ratelimit"


class StoreWindowStorage(Storage, MovingWindowSupport):
    """A moving-window ``limits`` storage kept in a stepup store.

    :param store: the store.
    :param clock: the time source.
    """

    STORAGE_SCHEME = None

    def __init__(self, store: Store, clock: Clock) -> None:
        super().__init__()
        self._store = store
        self._clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return StoreUnavailable

    # The moving window keeps the times of the hits within the window, newest first.
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = self._clock()

        def hit(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
            times = [t for t in (record or {}).get("t", []) if t > now - expiry]
            if len(times) + amount > limit:
                return {"t": times}, False
            return {"t": [now] * amount + times}, True

        return self._store.update(_KIND, key, hit, ttl=expiry)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._clock()
        times = [t for t in (self._store.get(_KIND, key) or {}).get("t", []) if t > now - expiry]
        return (min(times) if times else now), len(times)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("stepup uses the moving-window strategy")

    def get(self, key: str) -> int:
        return len((self._store.get(_KIND, key) or {}).get("t", []))

    def get_expiry(self, key: str) -> float:
        return self._clock()

    def check(self) -> bool:
        try:
            self._store.get(_KIND, "__check__")
        except StoreUnavailable:
            return False
        return True

    def reset(self) -> int | None:
        return None

    def clear(self, key: str) -> None:
        self._store.delete(_KIND, key)


class Limit:
    """One named limit.

    :param name: the setting it comes from, without ``limit_`` (e.g. ``sends_per_target``).
    :param spec: the limit in ``limits`` notation, e.g. ``"10/hour"``.
    """

    def __init__(self, name: str, spec: str) -> None:
        self.name = name
        self.item: RateLimitItem = parse(spec)
        self.spec = spec


class RateLimiter:
    """Hits named limits and raises :class:`RateLimited` with ``retry_after`` when one is full.

    :param limits: the limits by name.
    :param strategy: a ``limits`` moving-window rate limiter.
    :param clock: the time source, to turn reset times into ``retry_after``.
    """

    def __init__(self, limits: dict[str, Limit], strategy: MovingWindowRateLimiter, clock: Clock) -> None:
        self.limits = limits
        self._strategy = strategy
        self._clock = clock

    def hit(self, hits: Sequence[tuple[str, str]]) -> None:
        """Take one hit from each ``(limit name, identifier)``.

        :raises RateLimited: for the first limit that is full; hits already taken stay.
        """
        for name, identifier in hits:
            limit = self.limits[name]
            if not self._strategy.hit(limit.item, name, identifier):
                reset, _ = self._strategy.get_window_stats(limit.item, name, identifier)
                retry = max(1, int(reset - self._clock() + 0.999))
                raise RateLimited(
                    f"Too many requests ({limit.spec.replace('/', ' per ')}). Try again in {retry} s.",
                    retry,
                    name,
                ) from None

    def clear(self, name: str, identifier: str) -> None:
        """Forget the hits of one limit for one identifier (an admin reset)."""
        self._strategy.clear(self.limits[name].item, name, identifier)
