"""``memory://``: one process, no persistence; for tests, demos and single-process apps."""

from __future__ import annotations

import heapq
import json
import threading
from typing import TypeVar

from .._clock import Clock, system_clock
from ._base import Mutator, Record

__all__ = ["MemoryStore"]

T = TypeVar("T")


class MemoryStore:
    """Records in a dict, as JSON text so no caller can change a stored record by accident.

    :param clock: the time source for expiry.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._data: dict[tuple[str, str], tuple[str, float | None]] = {}
        self._expiries: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, slot: tuple[str, str], now: float) -> str | None:
        entry = self._data.get(slot)
        if entry is None:
            return None
        text, expires_at = entry
        if expires_at is not None and expires_at <= now:
            del self._data[slot]
            return None
        return text

    def _purge(self, now: float) -> None:
        # A heap keeps expiry O(log n) per write however many records are pending.
        heap = self._expiries
        while heap and heap[0][0] <= now:
            expires_at, kind, key = heapq.heappop(heap)
            entry = self._data.get((kind, key))
            if entry is not None and entry[1] == expires_at:
                del self._data[(kind, key)]

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        with self._lock:
            text = self._live((kind, key), self._clock())
        return None if text is None else json.loads(text)  # type: ignore[no-any-return]

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""
        slot = (kind, key)
        with self._lock:
            now = self._clock()
            self._purge(now)
            text = self._live(slot, now)
            new, result = fn(None if text is None else json.loads(text))
            if new is None:
                self._data.pop(slot, None)
                return result
            if ttl is not None:
                expires_at: float | None = now + ttl
                heapq.heappush(self._expiries, (now + ttl, kind, key))
            else:
                expires_at = self._data[slot][1] if text is not None else None
            self._data[slot] = (json.dumps(new, separators=(",", ":")), expires_at)
            return result

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        with self._lock:
            self._data.pop((kind, key), None)

    def close(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self._expiries.clear()
