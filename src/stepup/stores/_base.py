"""The store contract: a few atomic operations on JSON records, sync and async.

A record is a JSON-able dict under ``(kind, key)``. :meth:`Store.update` is the one
primitive every state change goes through: it reads a record, hands it to a pure function
and writes what that function returns, atomically with respect to every other call on the
same key, in this process and in every other process sharing the store.

:meth:`Store.get_many` and :meth:`Store.update_many` do the same for several records in
one round trip (one lock, one transaction, one script): a new challenge and every rate
limit it is charged to are one step. A store written before they existed still works:
:func:`with_many` gives it both, one record at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from .._errors import StoreUnavailable
from .._twin import Call, Steps, arun, run
from ._json import dumps
from ._own import AFTER_CONSISTENT, own_method

__all__ = [
    "AfterRead", "AsyncStore", "Item", "ManyMutator", "Mutator", "Record", "Store", "Write", "async_with_many",
    "one_record", "update_after", "with_many",
]  # fmt: skip

T = TypeVar("T")
Record = dict[str, Any]
#: A pure function from the stored record (``None`` when absent) to the record to store
#: (``None`` deletes it) and a result handed back to the caller.
Mutator = Callable[[Record | None], tuple[Record | None, T]]
#: ``(kind, key)``: one record.
Item = tuple[str, str]
#: ``(kind, key, ttl)``: one record to update and the seconds it lives once written
#: (``None`` keeps its current expiry).
Write = tuple[str, str, float | None]
#: :data:`Mutator` over several records: the stored records in the order asked for, to the
#: records to store in that order and a result.
ManyMutator = Callable[[list[Record | None]], tuple[list[Record | None], T]]
#: What :func:`update_after` does with the records it read: the records to write
#: (:data:`Write`) and the :data:`ManyMutator` that writes them; it may raise (nothing is
#: written) and may be called more than once, so it must not have side effects.
AfterRead = Callable[[list[Record | None]], tuple[Sequence[Write], ManyMutator[T]]]


def one_record(fn: Mutator[T]) -> ManyMutator[T]:
    """``fn`` as a :data:`ManyMutator` over a list of one record: a store's ``update`` made
    of its ``update_many``, or a step that writes the one record it read."""

    def many(records: list[Record | None]) -> tuple[list[Record | None], T]:
        new, result = fn(records[0])
        return [new], result

    return many


#: rounds of an emulated ``update_many`` before it gives up (only under extreme contention).
_MAX_ROUNDS = 1000


class Store(Protocol):
    """Where stepup keeps bindings, challenges, policy and counters (sync)."""

    def get(self, kind: str, key: str) -> Record | None:
        """The record, or ``None`` when absent or expired.

        :raises StoreUnavailable: when the store cannot answer.
        """
        ...

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """Read, apply ``fn`` and write, as one atomic step.

        :param fn: called with the current record; may be called more than once by stores
            that retry on conflict, so it must not have side effects.
        :param ttl: seconds the written record lives; ``None`` keeps its current expiry
            (none for a new record).
        :raises StoreUnavailable: when the store cannot answer; nothing is written.
        """
        ...

    def delete(self, kind: str, key: str) -> None:
        """Remove the record if present."""
        ...

    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """The records of ``items``, in order (``None`` for each absent or expired one).

        :raises StoreUnavailable: when the store cannot answer.
        """
        ...

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """:meth:`update` over several records: read them all, apply ``fn`` once, write
        what it returns, as one atomic step (a store may document that it is atomic per
        record only, as :func:`with_many` and a Redis Cluster are).

        :param fn: called with the records in the order of ``items``; returns as many
            records (``None`` deletes) and a result. May be called more than once.
        :raises StoreUnavailable: when the store cannot answer; nothing is written.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class AsyncStore(Protocol):
    """The async twin of :class:`Store`: the same methods, awaited."""

    async def get(self, kind: str, key: str) -> Record | None: ...  # noqa: D102

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T: ...  # noqa: D102

    async def delete(self, kind: str, key: str) -> None: ...  # noqa: D102

    async def get_many(self, items: Sequence[Item]) -> list[Record | None]: ...  # noqa: D102

    async def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T: ...  # noqa: D102

    async def close(self) -> None: ...  # noqa: D102


# -- several records on a store that is atomic per record ------------------------------------


class _Changed(Exception):
    """A record changed between the read and the write of an emulated ``update_many``."""


def _expecting(read: Record | None, new: Record | None) -> Mutator[None]:
    def put(current: Record | None) -> tuple[Record | None, None]:
        if current != read:
            raise _Changed
        return new, None

    return put


def _one_each(items: Sequence[Write], records: Sequence[Record | None]) -> None:
    """Refuse, before anything is written, an ``update_many`` function that did not
    return one record (or ``None``) for each item."""
    if len(records) != len(items):
        raise ValueError(f"update_many's function returned {len(records)} records for {len(items)} items.")


def _writable(items: Sequence[Write], records: Sequence[Record | None]) -> None:
    """Raise the error of a step that a store's own ``update_many`` would refuse (a record
    JSON cannot write, a record too few or too many) before any record is written."""
    _one_each(items, records)
    for record in records:
        if record is not None:
            dumps(record)


class _Emulation:
    """The steps of ``update_many`` made of single-record calls: read every record, apply
    ``fn``, then write each record only if it is still what was read. Each record is
    atomic; the step as a whole is not: when a record changed in between, the records
    already written stay written and ``fn`` runs again on fresh reads for the rest (a
    rate limit may count a hit twice, never miss one)."""

    def __init__(self, items: Sequence[Write], fn: ManyMutator[T]) -> None:
        self.items, self.fn, self.done = items, fn, 0

    def too_busy(self) -> StoreUnavailable:
        return StoreUnavailable("The store is too busy to take this change. Try again.")


def _update_each(store: Any, items: Sequence[Write], fn: ManyMutator[T]) -> Steps[T]:
    """``update_many`` made of ``store.get_many`` and ``store.update`` (see :class:`_Emulation`),
    run on a plain store or awaited on an async one; for :func:`with_many`, and for a store
    that can do some calls in one step but not all (a Redis Cluster, across hash slots)."""
    step = _Emulation(items, fn)
    for _ in range(_MAX_ROUNDS):
        records: list[Record | None] = yield from Call(store, "get_many", [(kind, key) for kind, key, _ in items])
        new, result = fn(records)
        _writable(items, new)
        try:
            while step.done < len(items):
                kind, key, ttl = items[step.done]
                yield from Call(store, "update", kind, key, _expecting(records[step.done], new[step.done]), ttl)
                step.done += 1
        except _Changed:
            continue
        return result
    raise step.too_busy()


def update_after(store: Any, reads: Sequence[Item], after: AfterRead[T]) -> Steps[T]:
    """Read ``reads``, then :meth:`Store.update_many` what ``after`` makes of them: the
    writes of a step that depend on what it read (a challenge's failure record, a
    subject's number's limits). Run on a plain store or awaited on an async one.

    A store may do it all in one step of its own, an ``update_after(reads, after)``
    method: the Redis store runs ``after`` on the values it remembers and sends one script
    that confirms the records read and writes, one round trip instead of two; the memory
    and SQLite stores read and write under one lock, in one transaction. Elsewhere it is
    :meth:`Store.get_many` and then :meth:`Store.update_many`, as a flow would write it.

    :raises StoreUnavailable: when the store cannot answer; nothing is written.
    """
    if own_method(store, "update_after", *AFTER_CONSISTENT) is not None:
        result: T = yield from Call(store, "update_after", reads, after)
        return result
    return (yield from _read_then_update(store, reads, after))


def _read_then_update(store: Any, reads: Sequence[Item], after: AfterRead[T]) -> Steps[T]:
    """:func:`update_after` on a store without one of its own: ``get_many``, then ``update_many``."""
    records: list[Record | None] = yield from Call(store, "get_many", reads)
    writes, fn = after(records)
    done: T = yield from Call(store, "update_many", writes, fn)
    return done


def _get_each(store: Any, items: Sequence[Item]) -> Steps[list[Record | None]]:
    """``get_many`` made of ``store.get``, one record at a time."""
    records: list[Record | None] = []
    for kind, key in items:
        record: Record | None = yield from Call(store, "get", kind, key)
        records.append(record)
    return records


def with_many(store: Any) -> Any:
    """``store`` itself when it has ``get_many`` and ``update_many``, else a store that
    adds them, made of its ``get`` and ``update`` (atomic per record only)."""
    return store if _has_many(store) else _ManySync(store)


def async_with_many(store: Any) -> Any:
    """The async twin of :func:`with_many`."""
    return store if _has_many(store) else _ManyAsync(store)


def _has_many(store: Any) -> bool:
    return hasattr(store, "get_many") and hasattr(store, "update_many")


class _Many:
    """A store with ``get_many`` and ``update_many`` made of the ``get`` and ``update`` of
    the store it wraps; its twins run or await the same steps."""

    #: the emulation is atomic per record only.
    atomic_many = False

    def __init__(self, store: Any) -> None:
        self.inner = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _ManySync(_Many):
    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        return run(_get_each(self.inner, items))

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        return run(_update_each(self, items, fn))


class _ManyAsync(_Many):
    async def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        return await arun(_get_each(self.inner, items))

    async def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        return await arun(_update_each(self, items, fn))
