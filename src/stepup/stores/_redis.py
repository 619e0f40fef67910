"""``redis://`` and friends: one store shared by every app instance, sync and asyncio twins.

Each record is one Redis key, ``{prefix}:{kind:key}``; the braces are its hash tag, so on
a Redis Cluster everything about one record lives on one node. The value is a JSON
envelope: the record, its expiry and the id of the write that made it.

An update is optimistic: read the key, run the caller's pure function, then a Lua script
writes only if the key still holds exactly what was read (compare-and-set, atomic on the
server). If another instance wrote in between, the script refuses and the update reads
again, so two instances racing on one challenge behave as one. The write id makes a
retried script call whose first try landed (a reply lost on the network) count as done,
not as a conflict that would apply the function twice.

Expiry follows the injected clock, as in every store: the envelope keeps the expiry and
a read past it sees nothing. The key also gets a ``PEXPIRE`` so Redis drops it itself;
``ttl=None`` keeps the key's TTL (``KEEPTTL``, Redis 6 or later).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any, TypeVar

from .._clock import Clock, system_clock
from .._errors import StoreUnavailable
from ._base import Mutator, Record
from ._redis_client import REDIS_ERRORS, RedisTarget, aclose_all, close_all

__all__ = ["AsyncRedisStore", "RedisStore"]

T = TypeVar("T")

#: KEYS[1] the record; ARGV[1] the value read ('' when absent); ARGV[2] the value to write
#: ('' deletes); ARGV[3] the expiry: milliseconds, 'keep' (KEEPTTL) or 'none'.
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
    if current ~= '' and current == ARGV[2] then return 1 end
    return 0
end
if ARGV[2] == '' then
    redis.call('DEL', KEYS[1])
elseif ARGV[3] == 'keep' then
    redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
elseif ARGV[3] == 'none' then
    redis.call('SET', KEYS[1], ARGV[2])
else
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"""
#: compare-and-set rounds before an update gives up (only under extreme contention).
_MAX_ROUNDS = 1000


class _RedisStoreBase:
    """What both twins share: keys, envelopes, the plan of each write, error messages."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.target = RedisTarget.parse(url)
        self._clock = clock

    def _name(self, kind: str, key: str) -> str:
        return f"{self.target.prefix}:{{{kind}:{key}}}"

    def _read(self, raw: bytes | None) -> tuple[Record | None, float | None]:
        """The live record in a stored value and its expiry (``None``: none)."""
        if raw is None:
            return None, None
        envelope = json.loads(raw)
        expires_at = envelope["e"]
        if expires_at is not None and expires_at <= self._clock():
            return None, None
        return envelope["v"], expires_at

    def _plan(self, raw: bytes | None, fn: Mutator[T], ttl: float | None) -> tuple[list[Any] | None, T]:
        """The compare-and-set arguments for applying ``fn`` to ``raw`` (``None``: nothing
        to write), and the result to hand back once they are written."""
        record, expires_at = self._read(raw)
        new, result = fn(record)
        if new is None:
            return (None if raw is None else [raw, b"", "none"]), result
        if ttl is not None:
            expires_at, expiry = self._clock() + ttl, str(max(1, int(ttl * 1000)))
        else:
            expiry = "keep" if record is not None and expires_at is not None else "none"
        value = json.dumps({"v": new, "e": expires_at, "w": secrets.token_hex(8)}, separators=(",", ":"))
        return [raw or b"", value.encode(), expiry], result

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except REDIS_ERRORS as e:
            raise StoreUnavailable(
                f"The Redis store at {self.target.display} is unavailable ({_reason(e)}). Try again shortly."
            ) from e

    def _contended(self) -> StoreUnavailable:
        return StoreUnavailable(f"The Redis store at {self.target.display} is too busy to take this change. Try again.")


def _reason(error: BaseException) -> str:
    # redis-py's texts name the host and the errno, never the password.
    text = str(error).strip().rstrip(".")
    return text if text else type(error).__name__


class RedisStore(_RedisStoreBase):
    """Records in Redis, for many processes and machines.

    :param url: ``redis://``, ``rediss://``, ``redis+sentinel://`` or ``redis+cluster://``
        (see :mod:`stepup.stores._redis_client`).
    :param clock: the time source for expiry.
    :raises ConfigurationError: for a URL that cannot be used.
    :raises StoreUnavailable: when a cluster cannot be reached at start-up.
    """

    def __init__(self, url: str, clock: Clock = system_clock) -> None:
        super().__init__(url, clock)
        with self._errors():
            self._client = self.target.client()
        self._script = self._client.register_script(_COMPARE_AND_SET)
        self._limits: Any = None

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        with self._errors():
            raw = self._client.get(self._name(kind, key))
        return self._read(raw)[0]

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        name = self._name(kind, key)
        for _ in range(_MAX_ROUNDS):
            with self._errors():
                raw = self._client.get(name)
            args, result = self._plan(raw, fn, ttl)
            with self._errors():
                if args is None or self._script(keys=[name], args=args):
                    return result
        raise self._contended()

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        with self._errors():
            self._client.delete(self._name(kind, key))

    def rate_limit_storage(self) -> Any:
        """The ``limits`` storage for this Redis (made once, closed with the store).

        :raises StoreUnavailable: when a cluster cannot be reached.
        """
        if self._limits is None:
            with self._errors():
                self._limits = self.target.limits_storage()
        return self._limits

    def close(self) -> None:
        """Close the connections, the rate-limit storage's too."""
        limits, self._limits = self._limits, None
        close_all(self._client, *([limits] if limits is not None else []))


class AsyncRedisStore(_RedisStoreBase):
    """The asyncio twin of :class:`RedisStore` on ``redis.asyncio``: no threads.

    Use it from one event loop (the one the app runs on).
    """

    def __init__(self, url: str, clock: Clock = system_clock) -> None:
        super().__init__(url, clock)
        self._client = self.target.async_client()
        self._script = self._client.register_script(_COMPARE_AND_SET)
        self._limits: Any = None

    async def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        with self._errors():
            raw = await self._client.get(self._name(kind, key))
        return self._read(raw)[0]

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        name = self._name(kind, key)
        for _ in range(_MAX_ROUNDS):
            with self._errors():
                raw = await self._client.get(name)
            args, result = self._plan(raw, fn, ttl)
            with self._errors():
                if args is None or await self._script(keys=[name], args=args):
                    return result
        raise self._contended()

    async def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        with self._errors():
            await self._client.delete(self._name(kind, key))

    def rate_limit_storage(self) -> Any:
        """The asyncio ``limits`` storage for this Redis (made once, closed with the store)."""
        if self._limits is None:
            self._limits = self.target.async_limits_storage()
        return self._limits

    async def close(self) -> None:
        """Close the connections, the rate-limit storage's too."""
        limits, self._limits = self._limits, None
        await aclose_all(self._client, *([limits] if limits is not None else []))
