"""The async engine's view of a plain store (:class:`AsyncStoreAdapter`), and the checks that
give each engine a store of its kind (:func:`as_async_store`, :func:`sync_store`)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .._errors import ConfigurationError
from .._twin import arun
from ._base import AfterRead, AsyncStore, Item, ManyMutator, Mutator, Record, Store, Write, _read_then_update, with_many
from ._own import AFTER_CONSISTENT, own_method

__all__ = ["AsyncStoreAdapter", "as_async_store", "sync_store"]

T = TypeVar("T")


class AsyncStoreAdapter:
    """An :class:`AsyncStore` over a sync store.

    :param store: the sync store.
    :param offload: run each call in a worker thread (for stores that do blocking I/O,
        such as SQLite) so the event loop is never blocked; in-memory stores run inline.
    """

    def __init__(self, store: Store, *, offload: bool) -> None:
        self.sync = store
        self._offload = offload
        self._many = with_many(store)
        self.atomic_many = bool(getattr(self._many, "atomic_many", False))
        #: a store whose reads can be answered at once (SQLite's, in WAL mode) offers
        #: ``read_now(items)``: the records, or ``None`` when the read would wait.
        self._read_now: Callable[[Sequence[Item]], list[Record | None] | None] | None = (
            own_method(store, "read_now", "get", "get_many") if offload else None
        )
        self._update_after: Callable[[Sequence[Item], AfterRead[Any]], Any] | None = own_method(
            store, "update_after", *AFTER_CONSISTENT
        )
        #: and whose writes can be made without waiting (SQLite's, while no other thread
        #: or process holds its write lock) offers ``write_now(method, *args)``: the
        #: method's result and any housekeeping due to run in a worker thread,
        #: ``(result, chore)``, or ``None`` when the write would wait.
        self._write_now: Callable[..., tuple[Any, Callable[[], None] | None] | None] | None = (
            own_method(store, "write_now", *AFTER_CONSISTENT, "update_after", "delete") if offload else None
        )
        #: the writes this adapter sent to worker threads and that have not ended yet.
        self._in_thread: set[asyncio.Future[Any]] = set()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._offload:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def _write(self, method: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, which is the store's ``method``: made at once on the loop when the
        store can (``write_now``), else as :meth:`_call` makes it. The housekeeping a write
        on the loop leaves (one write in hundreds) runs in a worker thread, and the loop's
        next write waits for it: a coroutine that writes on and on lets it run."""
        if self._write_now is None:
            return await self._call(fn, *args)
        if self._in_thread:
            # This loop's writes in worker threads hold the write lock or wait for it: wait
            # for them, then write here, rather than queue behind them in threads too (each
            # in a thread holds the lock longer, as it waits on the loop for the interpreter).
            await self._this_loops_threads()
        if (done := self._write_now(method, *args)) is not None:
            result, chore = done
            if chore is not None:
                # Not awaited: the write is made, and its caller gets its result whatever
                # the chore takes. The next write waits for it, as for any in a thread.
                self._in_a_thread(chore)
            return result  # type: ignore[no-any-return]
        return await asyncio.shield(self._in_a_thread(fn, *args))

    def _in_a_thread(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` in a worker thread, as one of this adapter's writes there, which
        the loop's next writes wait for: it runs to its end even if the caller who awaits
        it is cancelled meanwhile (shielded), or if nobody does."""
        task = asyncio.ensure_future(self._call(fn, *args))
        self._in_thread.add(task)
        task.add_done_callback(self._thread_write_done)
        return task

    def _thread_write_done(self, task: asyncio.Future[Any]) -> None:
        self._in_thread.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here too, for a caller that was cancelled meanwhile

    async def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`Store.get`."""
        if self._read_now is not None and (records := self._read_now([(kind, key)])) is not None:
            return records[0]
        return await self._call(self.sync.get, kind, key)

    async def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`Store.update`."""
        return await self._write("update", self.sync.update, kind, key, fn, ttl)

    async def delete(self, kind: str, key: str) -> None:
        """See :meth:`Store.delete`."""
        await self._write("delete", self.sync.delete, kind, key)

    async def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`Store.get_many`."""
        if self._read_now is not None and items and (records := self._read_now(items)) is not None:
            return records
        return await self._call(self._many.get_many, items)

    async def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`Store.update_many`."""
        return await self._write("update_many", self._many.update_many, items, fn)

    async def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :func:`update_after`: the store's own in one call (one hop to a worker
        thread), else a read and an ``update_many``."""
        if self._update_after is not None:
            return await self._write("update_after", self._update_after, reads, after)
        return await arun(_read_then_update(self, reads, after))

    async def close(self) -> None:
        """See :meth:`Store.close`: once this loop's writes and housekeeping in threads end."""
        await self._this_loops_threads()
        await self._call(self.sync.close)

    async def _this_loops_threads(self) -> None:
        """Wait for this loop's writes and housekeeping in worker threads, if any. Another
        loop's (a store shared by loops in several threads) are not awaited: their
        callbacks run on their own loop, and would never wake this one."""
        loop = asyncio.get_running_loop()
        if mine := [task for task in list(self._in_thread) if task.get_loop() is loop]:
            await asyncio.wait(mine)


#: the methods every store has, sync or async alike.
_STORE_METHODS = ("get", "update", "delete")


def _is_async_store(store: object) -> bool:
    """Whether ``store``'s methods are coroutine functions (all of them) or plain (none).

    :raises ConfigurationError: for a store that lacks one of them or mixes the two kinds.
    """
    missing = [name for name in _STORE_METHODS if not callable(getattr(store, name, None))]
    if missing:
        raise ConfigurationError(f"The store {type(store).__name__} has no {', '.join(missing)} method.")
    kinds = {name: inspect.iscoroutinefunction(getattr(store, name)) for name in _STORE_METHODS}
    if len(set(kinds.values())) > 1:
        coroutines = ", ".join(name for name, is_async in kinds.items() if is_async)
        raise ConfigurationError(
            f"The store {type(store).__name__} mixes async and plain methods ({coroutines} async): "
            "make every method async (an AsyncStore) or none (a Store)."
        )
    return kinds["get"]


def as_async_store(store: Store | AsyncStore) -> AsyncStore:
    """The store an :class:`~stepup.AsyncEngine` uses: ``store`` itself when it is an
    :class:`AsyncStore`, else ``store`` in an :class:`AsyncStoreAdapter` whose calls run
    in worker threads, so a plain store that blocks never holds up the event loop.

    :raises ConfigurationError: for a store that lacks a method or mixes async and plain ones.
    """
    if _is_async_store(store):
        return store  # type: ignore[return-value]
    return AsyncStoreAdapter(store, offload=True)  # type: ignore[arg-type]


def sync_store(store: Any) -> Store:
    """``store``, checked to be a plain :class:`Store` for an :class:`~stepup.Engine`, which
    cannot await an :class:`AsyncStore`.

    :raises ConfigurationError: for an async store, one that lacks a method or mixes kinds.
    """
    if _is_async_store(store):
        raise ConfigurationError(
            f"The store {type(store).__name__} is async: give it to AsyncEngine, or give Engine a plain Store."
        )
    return store  # type: ignore[no-any-return]
