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
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import redis

from .._clock import Clock, system_clock
from .._errors import StoreUnavailable
from .._twin import Call, Steps, arun, run
from ._base import AfterRead, Item, ManyMutator, Mutator, Record, Write, _update_each, one_record
from ._redis_client import REDIS_ERRORS, RedisTarget, aclose_all, close_all, one_slot
from ._redis_commands import AsyncDirectCommands, ClientCommands, DirectCommands
from ._redis_eviction import CONFIG_NAMES, check_eviction, check_persistence, policies_in
from ._redis_script import COMPARE_AND_SET, held, keeping_reads, plan, read

__all__ = ["AsyncRedisStore", "RedisStore"]

T = TypeVar("T")

#: compare-and-set rounds before an update gives up (only under extreme contention).
_MAX_ROUNDS = 1000
#: keys, and bytes of their values, that a store remembers before it forgets the older half
#: of them (forgetting costs a retry at most): a bound on its memory however large the
#: records (a saved request body can be hundreds of kilobytes).
_REMEMBERED = 10_000
_REMEMBERED_BYTES = 4 * 2**20


class _RedisStoreBase:
    """What both twins share: keys, envelopes, the remembered values and every operation,
    written once as :class:`~stepup._twin.Steps` of calls on the redis-py client, which the
    sync twin runs and the asyncio twin awaits."""

    #: find a cluster's nodes before each command (the asyncio cluster client needs it).
    _discover_first = False
    _client: Any
    _commands: ClientCommands
    _config_get: Any

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

    def _use(self, client: Any, *, direct: Callable[[Any, str], ClientCommands] | None = None) -> None:
        """Talk to Redis through ``client`` (sync or asyncio, to match the twin's runner);
        ``direct``: the commands that write straight on its connections (one server)."""
        self._client = client
        self._commands = (
            direct(client, COMPARE_AND_SET)
            if direct is not None
            else ClientCommands(client, COMPARE_AND_SET, cluster=self._cluster)
        )
        # On a cluster every primary holds some of the records: ask each of them.
        options = {"target_nodes": "primaries"} if self._cluster else {}
        self._config_get = functools.partial(client.config_get, **options)

    # -- the operations, run by RedisStore and awaited by AsyncRedisStore ----------------
    # A call's result type is declared on the name that takes it (``raw: bytes | None =
    # yield from ...``), which mypy checks as it does ``Call[T]``, without subscripting the
    # class at run time (about 1.5 µs on every command).

    def _get(self, kind: str, key: str) -> Steps[Record | None]:
        name = self._name(kind, key)
        raw: bytes | None = yield from self._io(Call(self._commands, "get", name))
        return self._records([name], [raw])[0]

    def _get_many(self, items: Sequence[Item]) -> Steps[list[Record | None]]:
        if not items:
            return []
        names = [self._name(kind, key) for kind, key in items]
        raws = yield from self._io(self._mget(names))
        return self._records(names, raws)

    def _update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None) -> Steps[T]:
        names = [self._name(kind, key)]
        return (yield from self._updating(names, [ttl], one_record(fn)))

    def _update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> Steps[T]:
        names = [self._name(kind, key) for kind, key, _ in items]
        if not names:
            return fn([])[1]
        if not self._in_one_script(names):
            return (yield from _update_each(self, items, fn))
        return (yield from self._updating(names, [ttl for *_, ttl in items], fn))

    def _delete(self, kind: str, key: str) -> Steps[None]:
        name = self._name(kind, key)
        yield from self._io(Call(self._commands, "delete", name))
        self._remember([name], [None])

    def _updating(self, names: list[str], ttls: Sequence[float | None], fn: ManyMutator[T]) -> Steps[T]:
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
                raws = yield from self._io(self._mget(names))
            elif args is None:
                return result
            else:
                reply: Any = yield from self._io(Call(self._commands, "script", names, args))
                if not isinstance(reply, list):
                    self._remember(names, held(args, len(names)))
                    return result
                raws = [value or None for value in reply]
            guessed = False
            self._remember(names, raws)
        raise self._contended()

    def _update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> Steps[T]:
        """See :meth:`RedisStore.update_after`: ``after`` runs on the remembered values of
        ``reads``, and one script confirms them and writes (compare-and-set over both).
        When the memory was wrong, the script hands back what the keys hold and it all
        runs again; an error raised on remembered values runs again on a fresh read."""
        read_names = [self._name(kind, key) for kind, key in reads]
        n = len(read_names)
        fresh: set[str] = set()  # the names whose remembered values Redis just gave
        for _ in range(_MAX_ROUNDS):
            consulted = read_names
            try:
                writes, fn = after(self._remembered(read_names))
                names = read_names + [self._name(kind, key) for kind, key, _ in writes]
                consulted = names
                across = not self._in_one_script(names)  # a cluster, across slots
                if across and not fresh.issuperset(read_names):
                    raise _Unconfirmed
                if not across:
                    raws = [self._seen.get(name) for name in names]
                    ttls = [None] * n + [ttl for *_, ttl in writes]
                    args, result = self._plan(raws, keeping_reads(n, fn), ttls, not fresh.issuperset(names), checked=n)
            except Exception:
                if fresh.issuperset(consulted):
                    raise
                fresh = set(consulted)
                self._remember(consulted, (yield from self._io(self._mget(consulted))))
                continue
            if across:  # the records read, as Redis just gave them; the writes one by one
                return (yield from _update_each(self, writes, fn))
            if args is None:
                return result
            reply: Any = yield from self._io(Call(self._commands, "script", names, args))
            if not isinstance(reply, list):
                self._remember(names, held(args, len(names)))
                return result
            self._remember(names, [value or None for value in reply])
            fresh = set(names)
        raise self._contended()

    def _remembered(self, names: list[str]) -> list[Record | None]:
        clock = self._clock
        return [read(self._seen.get(name), clock)[0] for name in names]

    # -- I/O -------------------------------------------------------------------------------

    def _io(self, call: Call[T]) -> Steps[T]:
        """``call``, after the first-use checks, with redis-py's errors as :class:`StoreUnavailable`."""
        try:
            if self._discover_first or not self._eviction_checked:
                yield from self._prepare()
            return (yield from call)
        except REDIS_ERRORS as e:
            raise self._unavailable(e) from e

    def _prepare(self) -> Steps[None]:
        if self._discover_first:
            # redis-py's asyncio cluster client (8.1) mixes up connections when many
            # commands arrive at once while it is still finding the nodes (AttributeError
            # on a closed writer); finding them first, under its own lock, avoids that.
            yield from Call(self._client, "initialize")
        if self._eviction_checked:
            return
        try:  # the server's eviction policy, on first use
            reply: Any = yield from Call(self._config_get, "__call__", *CONFIG_NAMES)
        except redis.ResponseError as refused:  # CONFIG renamed or not allowed to this user
            reply = refused
        policies = None if isinstance(reply, redis.ResponseError) else policies_in(reply)
        self._eviction_checked = check_eviction(self.target.display, policies, require=self._require_noeviction)
        check_persistence(self.target.display, reply)

    def _mget(self, names: list[str]) -> Call[list[bytes | None]]:
        # A cluster reads slot by slot.
        return Call(self._commands, "mget", names)

    # -- keys, values and what is remembered -------------------------------------------------

    def _name(self, kind: str, key: str) -> str:
        return f"{self.target.prefix}:{{{kind}:{key}}}"

    def _remember(self, names: Sequence[str], raws: Sequence[bytes | None]) -> None:
        seen = self._seen
        if len(seen) > _REMEMBERED or self._seen_bytes > _REMEMBERED_BYTES:
            self._forget_older()
        grown = 0
        for name, raw in zip(names, raws, strict=True):
            # Taken out and put back: the dict's order is the order keys were last seen in.
            grown += len(raw or b"") - len(seen.pop(name, None) or b"")
            seen[name] = raw
        self._seen_bytes += grown

    def _forget_older(self) -> None:
        """Forget the half of the remembered keys seen longest ago. Forgetting them all
        made every key in use (the policy, a subject's trail, a challenge between its start
        and its verify) cost a refused script or a read once more each time the bound was
        reached, which a busy store reaches every few thousand operations."""
        seen = self._seen
        names = list(seen)  # one C call: no other thread changes the dict meanwhile
        for name in names[: len(names) // 2]:
            self._seen_bytes -= len(seen.pop(name, None) or b"")

    def _forget(self) -> None:
        self._seen.clear()
        self._seen_bytes = 0

    def _records(self, names: Sequence[str], raws: Sequence[bytes | None]) -> list[Record | None]:
        self._remember(names, raws)
        return [read(raw, self._clock)[0] for raw in raws]

    def _plan(
        self, raws: list[bytes | None], fn: ManyMutator[T], ttls: Sequence[float | None], check: bool, checked: int = 0
    ) -> tuple[list[Any] | None, T]:
        """See :func:`stepup.stores._redis_script.plan`."""
        return plan(raws, fn, ttls, check, self._clock, checked)

    def _in_one_script(self, names: list[str]) -> bool:
        """Whether one script can update all of ``names`` (on a cluster: one hash slot)."""
        return not self._cluster or one_slot(names)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except REDIS_ERRORS as e:
            raise self._unavailable(e) from e

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        return StoreUnavailable(
            f"The Redis store at {self.target.display} is unavailable ({_reason(error)}). Try again shortly."
        )

    def _contended(self) -> StoreUnavailable:
        return StoreUnavailable(f"The Redis store at {self.target.display} is too busy to take this change. Try again.")


def _reason(error: BaseException) -> str:
    # redis-py's texts name the host and the errno, never the password.
    text = str(error).strip().rstrip(".")
    return text if text else type(error).__name__


class _Unconfirmed(Exception):
    """Records read from memory where Redis must be asked (a step across cluster slots)."""


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
            self._use(self.target.client(), direct=DirectCommands if self.target.mode == "basic" else None)

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        return run(self._get(kind, key))

    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many` (one ``MGET``)."""
        return run(self._get_many(items))

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        return run(self._update(kind, key, fn, ttl))

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many` (one script; on a cluster, across
        hash slots, atomic per record only)."""
        return run(self._update_many(items, fn))

    def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :meth:`stepup.stores.Store.update_after`: usually one round trip, a script
        that confirms the records read and writes (on a cluster, when all the keys share a
        hash slot; across slots, a read and then :meth:`update_many`)."""
        return run(self._update_after(reads, after))

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        run(self._delete(kind, key))

    def close(self) -> None:
        """Close the connections."""
        self._forget()
        close_all(self._client)


class AsyncRedisStore(_RedisStoreBase):
    """The asyncio twin of :class:`RedisStore` on ``redis.asyncio``: no threads.

    Use it from one event loop (the one the app runs on).
    """

    def __init__(self, url: str, clock: Clock = system_clock, *, require_noeviction: bool = False) -> None:
        super().__init__(url, clock, require_noeviction)
        self._discover_first = self._cluster
        self._use(self.target.async_client(), direct=AsyncDirectCommands if self.target.mode == "basic" else None)

    async def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        return await arun(self._get(kind, key))

    async def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many` (one ``MGET``)."""
        return await arun(self._get_many(items))

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        return await arun(self._update(kind, key, fn, ttl))

    async def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many` (one script; on a cluster, across
        hash slots, atomic per record only)."""
        return await arun(self._update_many(items, fn))

    async def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :meth:`RedisStore.update_after`."""
        return await arun(self._update_after(reads, after))

    async def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        await arun(self._delete(kind, key))

    async def close(self) -> None:
        """Close the connections."""
        self._forget()
        await aclose_all(self._client)
