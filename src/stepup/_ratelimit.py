"""Rate limits, with the ``limits`` library's moving window, sync and async twins.

Limits live in the same place as everything else. :class:`StoreWindowStorage` is a
``limits`` storage over any stepup store (so ``sqlite://`` limits hold across processes),
read through stepup's injected clock. A store with a native ``limits`` storage (Redis:
``rate_limit_storage()``) uses that instead; it reads the real time, not the injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import MovingWindowRateLimiter

from ._clock import Clock, system_clock
from ._errors import ConfigurationError, RateLimited, StoreUnavailable
from .stores import AsyncStore, AsyncStoreAdapter, Store

__all__ = ["AsyncRateLimiter", "Limit", "RateLimiter", "StoreWindowStorage", "async_rate_limiter", "rate_limiter"]

_KIND = "ratelimit"
_EXACT_UP_TO = 100
_BUCKETS = 60


def _live_buckets(record: dict[str, Any] | None, now: float, expiry: int) -> list[list[float]]:
    """A bucketed window's ``[start, hits]`` pairs, newest first, that still count."""
    width = expiry / _BUCKETS
    return [b for b in (record or {}).get("b", []) if b[0] + width > now - expiry]


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

    # A limit of up to _EXACT_UP_TO hits keeps the time of each hit in the window, newest
    # first: an exact moving window. A larger one counts its hits in _BUCKETS buckets per
    # window instead, so that its record stays small however busy the key: a per-country
    # SMS limit sees every SMS, and a record of a thousand times would be read and written
    # whole on each. A bucket counts while any of it is in the window, so such a limit
    # refuses at most one bucket (a sixtieth of the window) early, never late.
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = self._clock()
        if limit <= _EXACT_UP_TO:

            def hit(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
                times = [t for t in (record or {}).get("t", []) if t > now - expiry]
                if len(times) + amount > limit:
                    return {"t": times}, False
                return {"t": [now] * amount + times}, True

        else:
            width = expiry / _BUCKETS
            start = now - now % width

            def hit(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
                buckets = _live_buckets(record, now, expiry)
                if sum(n for _, n in buckets) + amount > limit:
                    return {"b": buckets}, False
                if buckets and buckets[0][0] == start:
                    buckets[0] = [start, buckets[0][1] + amount]
                else:
                    buckets.insert(0, [start, amount])
                return {"b": buckets}, True

        return self._store.update(_KIND, key, hit, ttl=expiry)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._clock()
        record = self._store.get(_KIND, key) or {}
        if "b" in record:
            buckets = _live_buckets(record, now, expiry)
            return (buckets[-1][0] if buckets else now), int(sum(n for _, n in buckets))
        times = [t for t in record.get("t", []) if t > now - expiry]
        return (min(times) if times else now), len(times)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("stepup uses the moving-window strategy")

    def get(self, key: str) -> int:
        record = self._store.get(_KIND, key) or {}
        return sum(n for _, n in record["b"]) if "b" in record else len(record.get("t", []))

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


class _LimiterBase:
    """What both limiters share: the limits, and the errors they raise.

    :param limits: the limits by name.
    :param strategy: a ``limits`` moving-window rate limiter (sync or async).
    :param clock: the time source of the strategy's storage, to turn reset times into
        ``retry_after``.
    """

    def __init__(self, limits: dict[str, Limit], strategy: Any, clock: Clock) -> None:
        self.limits = limits
        self._strategy = strategy
        self._clock = clock

    def _full(self, limit: Limit, reset: float) -> RateLimited:
        retry = max(1, int(reset - self._clock() + 0.999))
        return RateLimited(
            f"Too many requests ({limit.spec.replace('/', ' per ')}). Try again in {retry} s.", retry, limit.name
        )

    @staticmethod
    def _unavailable(error: StorageError) -> StoreUnavailable:
        return StoreUnavailable(
            f"The rate-limit store is unavailable ({error.storage_error}). Nothing was charged; try again."
        )


class RateLimiter(_LimiterBase):
    """Hits named limits and raises :class:`RateLimited` with ``retry_after`` when one is full."""

    def hit(self, hits: Sequence[tuple[str, str]]) -> None:
        """Take one hit from each ``(limit name, identifier)``.

        :raises RateLimited: for the first limit that is full; hits already taken stay.
        :raises StoreUnavailable: when the limits' storage cannot be reached.
        """
        for name, identifier in hits:
            limit = self.limits[name]
            try:
                if self._strategy.hit(limit.item, name, identifier):
                    continue
                reset, _ = self._strategy.get_window_stats(limit.item, name, identifier)
            except StorageError as e:
                raise self._unavailable(e) from e
            raise self._full(limit, reset)

    def clear(self, name: str, identifier: str) -> None:
        """Forget the hits of one limit for one identifier (an admin reset)."""
        try:
            self._strategy.clear(self.limits[name].item, name, identifier)
        except StorageError as e:
            raise self._unavailable(e) from e


class AsyncRateLimiter(_LimiterBase):
    """The async twin of :class:`RateLimiter`, over a ``limits.aio`` strategy."""

    async def hit(self, hits: Sequence[tuple[str, str]]) -> None:
        """See :meth:`RateLimiter.hit`."""
        for name, identifier in hits:
            limit = self.limits[name]
            try:
                if await self._strategy.hit(limit.item, name, identifier):
                    continue
                reset, _ = await self._strategy.get_window_stats(limit.item, name, identifier)
            except StorageError as e:
                raise self._unavailable(e) from e
            raise self._full(limit, reset)

    async def clear(self, name: str, identifier: str) -> None:
        """See :meth:`RateLimiter.clear`."""
        try:
            await self._strategy.clear(self.limits[name].item, name, identifier)
        except StorageError as e:
            raise self._unavailable(e) from e


class _OffloadedLimiter:
    """A sync :class:`RateLimiter` behind the async limiter's methods, in worker threads
    when its store blocks."""

    def __init__(self, limiter: RateLimiter, offload: bool) -> None:
        self._limiter = limiter
        self._offload = offload

    async def hit(self, hits: Sequence[tuple[str, str]]) -> None:
        if self._offload:
            await asyncio.to_thread(self._limiter.hit, hits)
        else:
            self._limiter.hit(hits)

    async def clear(self, name: str, identifier: str) -> None:
        if self._offload:
            await asyncio.to_thread(self._limiter.clear, name, identifier)
        else:
            self._limiter.clear(name, identifier)


def rate_limiter(limits: dict[str, Limit], store: Store, clock: Clock) -> RateLimiter:
    """The limiter for a sync store: its native ``limits`` storage if it has one
    (``rate_limit_storage()``), else a moving window kept in the store itself.

    :raises StoreUnavailable: when the native storage cannot be reached at start-up.
    """
    native = getattr(store, "rate_limit_storage", None)
    if native is not None:
        return RateLimiter(limits, MovingWindowRateLimiter(native()), system_clock)
    return RateLimiter(limits, MovingWindowRateLimiter(StoreWindowStorage(store, clock)), clock)


def async_rate_limiter(limits: dict[str, Limit], store: AsyncStore, clock: Clock) -> Any:
    """The limiter for an async store, with the methods of :class:`AsyncRateLimiter`: the
    store's native ``limits.aio`` storage if it has one, else the sync store's window.

    :raises ConfigurationError: for a native async store with no ``limits`` storage.
    """
    native = getattr(store, "rate_limit_storage", None)
    if native is not None:
        return AsyncRateLimiter(limits, AsyncMovingWindowRateLimiter(native()), system_clock)
    if isinstance(store, AsyncStoreAdapter):
        return _OffloadedLimiter(rate_limiter(limits, store.sync, clock), offload=store._offload)
    raise ConfigurationError(
        f"{type(store).__name__} keeps no rate limits: give it a rate_limit_storage() method "
        "returning a limits.aio moving-window storage, or wrap a sync store in AsyncStoreAdapter."
    )
