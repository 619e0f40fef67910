"""``redis://`` and friends: one store shared by every app instance, sync and asyncio twins.

Each record is one Redis key, ``{prefix}:{kind:key}``; the braces are its hash tag, so on
a Redis Cluster everything about one record lives on one node. The value is a JSON
envelope: the record, its expiry and the id of the write that made it.

An update is optimistic: a Lua script writes only if every key it touches still holds
exactly what the update expected (compare-and-set, atomic on the server). The store
remembers the value it last saw for each key (read, written, or absent: a key it never
saw is expected absent, as a new challenge is), so most updates are one round trip: the
caller's pure function runs on the remembered record, then the script checks and writes.
When the memory is stale (another instance wrote, the key expired), the script refuses
and hands back what the keys hold, and the function runs again on that: two round trips,
as many as a read and a write. The memory only ever sets what the script expects;
``get`` always reads Redis, and a function that raises on a remembered record runs again
on a fresh read before its error counts. Two instances racing on one challenge therefore
behave as one. The write id makes a retried script call whose first try landed (a reply
lost on the network) count as done, not as a conflict that would apply the function twice.

``get_many`` is one ``MGET`` and ``update_many`` one script over all its keys, so a
challenge and every rate limit it is charged to change together. A Redis Cluster runs a
script only over keys of one hash slot, and each record has a hash tag of its own: there
``get_many`` reads slot by slot (``mget_nonatomic``), and an ``update_many`` across slots
is made of single-record updates, so it is atomic per record only (when a record changed
in between, those already written stay written and the function runs again for the rest).

Expiry follows the injected clock, as in every store: the envelope keeps the expiry and
a read past it sees nothing. The key also gets a ``PEXPIRE`` so Redis drops it itself;
``ttl=None`` keeps the key's TTL (``KEEPTTL``, Redis 6 or later).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Generator, Iterator, Sequence
from typing import Any, TypeVar

import redis

from .._clock import Clock, system_clock
from .._errors import StoreUnavailable
from ._base import Item, ManyMutator, Mutator, Record, Write, _async_update_each, _update_each
from ._redis_client import REDIS_ERRORS, RedisTarget, aclose_all, close_all, one_slot
from ._redis_eviction import CONFIG_NAMES, check_eviction, check_persistence, policies_in

__all__ = ["AsyncRedisStore", "RedisStore"]

T = TypeVar("T")

#: KEYS: the records. ARGV, three runs of #KEYS: the values expected ('' for absent), the
#: values to write, and what to do with each: 'check' (compare only), 'del', 'keep'
#: (KEEPTTL), 'none' (no expiry) or milliseconds to live. Returns 1 once written, else
#: what the keys hold ('' for absent) so the caller can try again without reading.
_COMPARE_AND_SET = """
local n = #KEYS
local current, same = {}, true
for i = 1, n do
    current[i] = redis.call('GET', KEYS[i]) or ''
    if current[i] ~= ARGV[i] then same = false end
end
if not same then
    for i = 1, n do
        -- a value carrying this call's write id: a retry of a call that already landed
        if current[i] ~= '' and current[i] == ARGV[n + i] then return 1 end
    end
    return current
end
for i = 1, n do
    local value, op = ARGV[n + i], ARGV[2 * n + i]
    if op == 'del' then
        redis.call('DEL', KEYS[i])
    elseif op == 'keep' then
        redis.call('SET', KEYS[i], value, 'KEEPTTL')
    elseif op == 'none' then
        redis.call('SET', KEYS[i], value)
    elseif op ~= 'check' then
        redis.call('SET', KEYS[i], value, 'PX', op)
    end
end
return 1
"""
#: compare-and-set rounds before an update gives up (only under extreme contention).
_MAX_ROUNDS = 1000
#: keys, and bytes of their values, that a store remembers before it forgets them all
#: (forgetting costs a retry at most): a bound on its memory however large the records
#: (a saved request body can be hundreds of kilobytes).
_REMEMBERED = 10_000
_REMEMBERED_BYTES = 4 * 2**20

#: the steps of an update: each yields the script's ARGV (and takes its reply) or ``None``
#: to read the keys (and takes their values); it returns the caller's result.
_Steps = Generator[list[Any] | None, Any, T]


class _RedisStoreBase:
    """What both twins share: keys, envelopes, the remembered values and the steps of
    every update, without I/O."""

    def __init__(self, url: str, clock: Clock, require_noeviction: bool) -> None:
        self.target = RedisTarget.parse(url)
        self._clock = clock
        #: refuse a server whose maxmemory-policy may evict keys (else log a warning).
        self._require_noeviction = require_noeviction
        self._eviction_checked = False
        self._cluster = self.target.mode == "cluster"
        #: ``update_many`` is one script, atomic across records, except on a cluster
        #: (records on different nodes).
        self.atomic_many = not self._cluster
        # The raw value last seen per key (None: absent): only what a script expects.
        # Racing threads may interleave here; a wrong value costs one retry.
        self._seen: dict[str, bytes | None] = {}
        #: the bytes of the values in ``_seen`` (racing threads may miscount it by a
        #: value; it starts again from nothing when the memory is cleared).
        self._seen_bytes = 0

    def _name(self, kind: str, key: str) -> str:
        return f"{self.target.prefix}:{{{kind}:{key}}}"

    def _remember(self, names: Sequence[str], raws: Sequence[bytes | None]) -> None:
        seen = self._seen
        if len(seen) > _REMEMBERED or self._seen_bytes > _REMEMBERED_BYTES:
            self._forget()
        grown = 0
        for name, raw in zip(names, raws, strict=True):
            grown += len(raw or b"") - len(seen.get(name) or b"")
            seen[name] = raw
        self._seen_bytes += grown

    def _forget(self) -> None:
        self._seen.clear()
        self._seen_bytes = 0

    def _read(self, raw: bytes | None) -> tuple[Record | None, float | None]:
        """The live record in a stored value and its expiry (``None``: none)."""
        if raw is None:
            return None, None
        envelope = json.loads(raw)
        expires_at = envelope["e"]
        if expires_at is not None and expires_at <= self._clock():
            return None, None
        return envelope["v"], expires_at

    def _records(self, names: Sequence[str], raws: Sequence[bytes | None]) -> list[Record | None]:
        self._remember(names, raws)
        return [self._read(raw)[0] for raw in raws]

    def _plan(
        self, raws: list[bytes | None], fn: ManyMutator[T], ttls: Sequence[float | None], check: bool
    ) -> tuple[list[Any] | None, T]:
        """The script's ARGV for applying ``fn`` to the values ``raws``, and the result to
        hand back once it has run. ``None`` when nothing is to be written, unless ``check``
        (``raws`` is only a guess, which the script must confirm)."""
        read = [self._read(raw) for raw in raws]
        new, result = fn([record for record, _ in read])
        values: list[bytes] = []
        ops: list[str] = []
        for raw, (record, expires_at), written, ttl in zip(raws, read, new, ttls, strict=True):
            if written is None:
                values.append(b"")
                ops.append("check" if raw is None else "del")
                continue
            if ttl is not None:
                expires_at, op = self._clock() + ttl, str(max(1, int(ttl * 1000)))
            else:
                op = "keep" if record is not None and expires_at is not None else "none"
            envelope = {"v": written, "e": expires_at, "w": secrets.token_hex(8)}
            values.append(json.dumps(envelope, separators=(",", ":")).encode())
            ops.append(op)
        if not check and all(op == "check" for op in ops):
            return None, result
        return [*(raw or b"" for raw in raws), *values, *ops], result

    def _updating(self, names: list[str], ttls: Sequence[float | None], fn: ManyMutator[T]) -> _Steps[T]:
        """An update of ``names``: a script against the remembered values; when it refuses,
        a script against what it handed back; when ``fn`` raises on a remembered value, a
        read and ``fn`` again, whose error then stands."""
        raws = [self._seen.get(name) for name in names]
        guessed = True
        for _ in range(_MAX_ROUNDS):
            try:
                args, result = self._plan(raws, fn, ttls, check=guessed)
                refused = False
            except Exception:
                if not guessed:
                    raise
                refused = True
            if refused:
                raws = yield None
            elif args is None:
                return result
            else:
                reply = yield args
                if not isinstance(reply, list):
                    self._remember(names, [value or None for value in args[len(names) : 2 * len(names)]])
                    return result
                raws = [value or None for value in reply]
            guessed = False
            self._remember(names, raws)
        raise self._contended()

    def _config_get_args(self) -> dict[str, Any]:
        # On a cluster every primary holds some of the records: ask each of them.
        return {"target_nodes": "primaries"} if self._cluster else {}

    def _judge_eviction(self, reply: Any) -> None:
        policies = None if isinstance(reply, redis.ResponseError) else policies_in(reply)
        self._eviction_checked = check_eviction(self.target.display, policies, require=self._require_noeviction)
        check_persistence(self.target.display, reply)

    def _in_one_script(self, names: list[str]) -> bool:
        """Whether one script can update all of ``names`` (on a cluster: one hash slot)."""
        return not self._cluster or one_slot(names)

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


def _one(fn: Mutator[T]) -> ManyMutator[T]:
    """``fn`` over a list of one record."""

    def many(records: list[Record | None]) -> tuple[list[Record | None], T]:
        new, result = fn(records[0])
        return [new], result

    return many


class RedisStore(_RedisStoreBase):
    """Records in Redis, for many processes and machines.

    :param url: ``redis://``, ``rediss://``, ``redis+sentinel://`` or ``redis+cluster://``
        (see :mod:`stepup.stores._redis_client`).
    :param clock: the time source for expiry.
    :param require_noeviction: on first use, refuse (:class:`StoreUnavailable`) a server
        whose ``maxmemory-policy`` may evict keys, rather than log a warning (see
        :mod:`stepup.stores._redis_eviction`).
    :raises ConfigurationError: for a URL that cannot be used.
    :raises StoreUnavailable: when a cluster cannot be reached at start-up.
    """

    def __init__(self, url: str, clock: Clock = system_clock, *, require_noeviction: bool = False) -> None:
        super().__init__(url, clock, require_noeviction)
        with self._errors():
            self._client = self.target.client()
        self._script = self._client.register_script(_COMPARE_AND_SET)

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        name = self._name(kind, key)
        with self._errors():
            self._checked()
            raw = self._client.get(name)
        return self._records([name], [raw])[0]

    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many` (one ``MGET``)."""
        if not items:
            return []
        names = [self._name(kind, key) for kind, key in items]
        with self._errors():
            self._checked()
            raws = self._mget(names)
        return self._records(names, raws)

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        names = [self._name(kind, key)]
        return self._run(names, self._updating(names, [ttl], _one(fn)))

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many` (one script; on a cluster, across
        hash slots, atomic per record only)."""
        names = [self._name(kind, key) for kind, key, _ in items]
        if not names:
            return fn([])[1]
        if not self._in_one_script(names):
            return _update_each(self, items, fn)
        return self._run(names, self._updating(names, [ttl for *_, ttl in items], fn))

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        name = self._name(kind, key)
        with self._errors():
            self._checked()
            self._client.delete(name)
        self._remember([name], [None])

    def close(self) -> None:
        """Close the connections."""
        self._forget()
        close_all(self._client)

    def _checked(self) -> None:
        """Check the server's eviction policy on first use."""
        if self._eviction_checked:
            return
        try:
            reply: Any = self._client.config_get(*CONFIG_NAMES, **self._config_get_args())
        except redis.ResponseError as refused:  # CONFIG renamed or not allowed to this user
            reply = refused
        self._judge_eviction(reply)

    def _mget(self, names: list[str]) -> list[bytes | None]:
        return self._client.mget_nonatomic(names) if self._cluster else self._client.mget(names)  # type: ignore[no-any-return]

    def _run(self, names: list[str], steps: _Steps[T]) -> T:
        reply: Any = None
        while True:
            try:
                args = steps.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            with self._errors():
                self._checked()
                reply = self._mget(names) if args is None else self._script(keys=names, args=args)


class AsyncRedisStore(_RedisStoreBase):
    """The asyncio twin of :class:`RedisStore` on ``redis.asyncio``: no threads.

    Use it from one event loop (the one the app runs on).
    """

    def __init__(self, url: str, clock: Clock = system_clock, *, require_noeviction: bool = False) -> None:
        super().__init__(url, clock, require_noeviction)
        self._client = self.target.async_client()
        self._script = self._client.register_script(_COMPARE_AND_SET)

    async def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        name = self._name(kind, key)
        with self._errors():
            await self._discovered()
            raw = await self._client.get(name)
        return self._records([name], [raw])[0]

    async def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many` (one ``MGET``)."""
        if not items:
            return []
        names = [self._name(kind, key) for kind, key in items]
        with self._errors():
            await self._discovered()
            raws = await self._mget(names)
        return self._records(names, raws)

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        names = [self._name(kind, key)]
        return await self._run(names, self._updating(names, [ttl], _one(fn)))

    async def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many` (one script; on a cluster, across
        hash slots, atomic per record only)."""
        names = [self._name(kind, key) for kind, key, _ in items]
        if not names:
            return fn([])[1]
        if not self._in_one_script(names):
            return await _async_update_each(self, items, fn)
        return await self._run(names, self._updating(names, [ttl for *_, ttl in items], fn))

    async def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        name = self._name(kind, key)
        with self._errors():
            await self._discovered()
            await self._client.delete(name)
        self._remember([name], [None])

    async def close(self) -> None:
        """Close the connections."""
        self._forget()
        await aclose_all(self._client)

    async def _discovered(self) -> None:
        # redis-py's asyncio cluster client (8.1) mixes up connections when many commands
        # arrive at once while it is still finding the nodes (AttributeError on a closed
        # writer); finding them first, under its own lock, avoids that.
        if self._cluster:
            await self._client.initialize()
        if not self._eviction_checked:  # the server's eviction policy, on first use
            try:
                reply: Any = await self._client.config_get(*CONFIG_NAMES, **self._config_get_args())
            except redis.ResponseError as refused:
                reply = refused
            self._judge_eviction(reply)

    async def _mget(self, names: list[str]) -> list[bytes | None]:
        if self._cluster:
            return await self._client.mget_nonatomic(names)  # type: ignore[no-any-return]
        return await self._client.mget(names)  # type: ignore[no-any-return]

    async def _run(self, names: list[str], steps: _Steps[T]) -> T:
        reply: Any = None
        while True:
            try:
                args = steps.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            with self._errors():
                await self._discovered()
                reply = await (self._mget(names) if args is None else self._script(keys=names, args=args))
