"""The store contract: a few atomic operations on JSON records, sync and async.

A record is a JSON-able dict under ``(kind, key)``. :meth:`Store.update` is the one
primitive every state change goes through: it reads a record, hands it to a pure function
and writes what that function returns, atomically with respect to every other call on the
same key, in this process and in every other process sharing the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["AsyncStore", "AsyncStoreAdapter", "Mutator", "Record", "Store"]

T = TypeVar("T")
Record = dict[str, Any]
#: A pure function from the stored record (``None`` when absent) to the record to store
#: (``None`` deletes it) and a result handed back to the caller.
Mutator = Callable[[Record | None], tuple[Record | None, T]]


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

    def close(self) -> None:
        """Release connections."""
        ...


class AsyncStore(Protocol):
    """The async twin of :class:`Store`: the same methods, awaited."""

    async def get(self, kind: str, key: str) -> Record | None: ...  # noqa: D102

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T: ...  # noqa: D102

    async def delete(self, kind: str, key: str) -> None: ...  # noqa: D102

    async def close(self) -> None: ...  # noqa: D102


class AsyncStoreAdapter:
    """An :class:`AsyncStore` over a sync store.

    :param store: the sync store.
    :param offload: run each call in a worker thread (for stores that do blocking I/O,
        such as SQLite) so the event loop is never blocked; in-memory stores run inline.
    """

    def __init__(self, store: Store, *, offload: bool) -> None:
        self.sync = store
        self._offload = offload

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._offload:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`Store.get`."""
        return await self._call(self.sync.get, kind, key)

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`Store.update`."""
        return await self._call(self.sync.update, kind, key, fn, ttl)

    async def delete(self, kind: str, key: str) -> None:
        """See :meth:`Store.delete`."""
        await self._call(self.sync.delete, kind, key)

    async def close(self) -> None:
        """See :meth:`Store.close`."""
        await self._call(self.sync.close)
