"""``update_many`` made of single-record updates, for a store that has only ``get``,
``update`` and ``delete`` (:func:`with_many`, :func:`async_with_many`): the same steps,
run on a plain store and awaited on an async one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import stepup
from stepup.stores import MemoryStore, Record
from stepup.stores._base import async_with_many, with_many

ITEMS = [("ratelimit", "a", 60.0), ("ratelimit", "b", None)]


class _Racing:
    """A plain store with only get, update and delete, where another writer changes the
    record ``b`` just before each of the next ``races`` updates of it."""

    def __init__(self, races: int) -> None:
        self.inner = MemoryStore()
        self.races = races

    def get(self, kind: str, key: str) -> Record | None:
        return self.inner.get(kind, key)

    def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        if key == "b" and self.races:
            self.races -= 1
            self.inner.update(kind, key, lambda r: ({"n": (r or {"n": 0})["n"] + 10}, None))
        return self.inner.update(kind, key, fn, ttl)

    def delete(self, kind: str, key: str) -> None:
        self.inner.delete(kind, key)


class _AsyncRacing:
    """The async twin of :class:`_Racing`."""

    def __init__(self, races: int) -> None:
        self.sync = _Racing(races)

    async def get(self, kind: str, key: str) -> Record | None:
        return self.sync.get(kind, key)

    async def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return self.sync.update(kind, key, fn, ttl)

    async def delete(self, kind: str, key: str) -> None:
        self.sync.delete(kind, key)


def _update_many(asynchronous: bool, races: int, fn: Callable[..., Any]) -> tuple[Any, _Racing]:
    """``update_many(ITEMS, fn)`` through the emulation, and the plain store behind it."""
    if not asynchronous:
        store = _Racing(races)
        return with_many(store).update_many(ITEMS, fn), store
    racing = _AsyncRacing(races)
    return asyncio.run(async_with_many(racing).update_many(ITEMS, fn)), racing.sync


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def asynchronous(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_a_record_changed_in_between_runs_the_function_again_for_the_rest(asynchronous: bool) -> None:
    seen: list[list[Record | None]] = []

    def count(records: list[Record | None]) -> tuple[list[Record | None], int]:
        seen.append(records)
        return [{"n": (r or {"n": 0})["n"] + 1} for r in records], len(seen)

    result, store = _update_many(asynchronous, 1, count)
    assert seen == [[None, None], [{"n": 1}, {"n": 10}]]  # a was written; b had changed
    assert result == 2
    assert store.inner.get_many([("ratelimit", "a"), ("ratelimit", "b")]) == [{"n": 1}, {"n": 11}]


def test_a_record_that_never_stops_changing_makes_the_store_too_busy(asynchronous: bool) -> None:
    with pytest.raises(stepup.StoreUnavailable) as caught:
        _update_many(asynchronous, 10_000, lambda records: ([{"n": 1}, {"n": 1}], None))
    assert "too busy" in caught.value.detail


def test_a_function_returning_too_few_records_writes_nothing(asynchronous: bool) -> None:
    with pytest.raises(ValueError, match="returned 1 records for 2 items"):
        _update_many(asynchronous, 0, lambda records: ([{"n": 1}], None))
