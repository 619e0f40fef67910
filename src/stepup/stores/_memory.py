"""``memory://``: one process, no persistence; for tests, demos and single-process apps."""

from __future__ import annotations

import heapq
import json
import marshal
import threading
from collections.abc import Sequence
from typing import TypeVar

from .._clock import Clock, system_clock
from ._base import AfterRead, Item, ManyMutator, Mutator, Record, Write, _one_each

__all__ = ["MemoryStore"]

# Records are kept serialized, so no caller can change a stored record by accident, with
# marshal: a record is JSON-able data, which marshal writes five times faster than JSON.
_decode = marshal.loads


def _encode(record: Record) -> bytes:
    try:
        return marshal.dumps(record)
    except ValueError:
        # marshal refuses subclasses of str and int (a str enum) and JSON writes them as
        # their values, as the other stores do; what JSON cannot write is a TypeError.
        return marshal.dumps(json.loads(json.dumps(record)))


T = TypeVar("T")


class MemoryStore:
    """Records in a dict, serialized so that no caller can change a stored record by accident.

    :param clock: the time source for expiry.
    """

    #: ``update_many`` is atomic across records (one lock).
    atomic_many = True

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._data: dict[tuple[str, str], tuple[bytes, float | None]] = {}
        self._expiries: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, slot: tuple[str, str], now: float) -> bytes | None:
        entry = self._data.get(slot)
        if entry is None:
            return None
        text, expires_at = entry
        if expires_at is not None and expires_at <= now:
            del self._data[slot]
            return None
        return text

    def _purge(self, now: float) -> None:
        # A heap keeps expiry O(log n) per write however many records are pending. A record
        # has one entry in it, at or before its expiry, not one per write: a record that a
        # write kept alive longer is looked at again when its entry comes up, and goes back
        # in. (A rate-limit record is written on each hit; an entry per write would keep
        # every hit of the last day in the heap.)
        heap = self._expiries
        while heap and heap[0][0] <= now:
            _, kind, key = heapq.heappop(heap)
            entry = self._data.get((kind, key))
            if entry is None or entry[1] is None:
                continue
            if entry[1] <= now:
                del self._data[(kind, key)]
            else:
                heapq.heappush(heap, (entry[1], kind, key))

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        with self._lock:
            text = self._live((kind, key), self._clock())
        return None if text is None else _decode(text)

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        slot = (kind, key)
        with self._lock:
            now = self._clock()
            self._purge(now)
            text = self._live(slot, now)
            new, result = fn(None if text is None else _decode(text))
            self._put(slot, text is not None, None if new is None else _encode(new), ttl, now)
            return result

    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many`."""
        with self._lock:
            now = self._clock()
            texts = [self._live(slot, now) for slot in items]
        return [None if text is None else _decode(text) for text in texts]

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many`."""
        with self._lock:
            return self._update_many(items, fn, self._clock())

    def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :func:`stepup.stores.update_after`: the records read and those written under
        one lock, one call (a read and an ``update_many`` were two)."""
        with self._lock:
            now = self._clock()
            texts = [self._live(slot, now) for slot in reads]
            items, fn = after([None if text is None else _decode(text) for text in texts])
            return self._update_many(items, fn, now)

    def _update_many(self, items: Sequence[Write], fn: ManyMutator[T], now: float) -> T:
        """:meth:`update_many` under the lock."""
        self._purge(now)
        texts = [self._live((kind, key), now) for kind, key, _ in items]
        new, result = fn([None if text is None else _decode(text) for text in texts])
        _one_each(items, new)
        encoded = [None if record is None else _encode(record) for record in new]  # all or nothing
        for (kind, key, ttl), text, value in zip(items, texts, encoded, strict=True):
            self._put((kind, key), text is not None, value, ttl, now)
        return result

    def _put(self, slot: tuple[str, str], live: bool, new: bytes | None, ttl: float | None, now: float) -> None:
        """Write one encoded record under the lock (``None`` deletes it)."""
        if new is None:
            self._data.pop(slot, None)
            return
        before = self._data[slot][1] if live else None
        expires_at = before if ttl is None else now + ttl
        if ttl is not None and (before is None or now + ttl < before):  # else the entry for `before` comes first
            heapq.heappush(self._expiries, (now + ttl, *slot))
        self._data[slot] = (new, expires_at)

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        with self._lock:
            self._data.pop((kind, key), None)

    def close(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self._expiries.clear()
