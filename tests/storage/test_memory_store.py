"""The store contract on ``memory://``."""

from __future__ import annotations

import pytest

from stepup import FrozenClock
from stepup.stores import MemoryStore, store_from_url
from stepup.testing import StoreContract, StoreFactory


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return MemoryStore


class TestMemoryStoreFromUrl(StoreContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return lambda clock: store_from_url("memory://", clock)


def test_memory_stores_share_nothing() -> None:
    a, b = MemoryStore(), MemoryStore()
    a.update("subject", "alice", lambda r: ({"n": 1}, None))
    assert b.get("subject", "alice") is None


def test_a_record_written_again_and_again_keeps_one_expiry_entry() -> None:
    # A rate-limit record is written on each hit; its expiry must not pile up in the heap.
    clock = FrozenClock()
    store = MemoryStore(clock)
    for _ in range(1000):
        store.update("ratelimit", "GB", lambda r: ({"n": 1}, None), ttl=86400)
        clock.advance(1)
    assert len(store._expiries) == 1
    clock.advance(86400 - 500)  # past the first write's expiry, not the last one's
    store.update("other", "x", lambda r: ({"n": 1}, None), ttl=10_000_000)  # a write purges
    assert store.get("ratelimit", "GB") == {"n": 1}
    clock.advance(1000)  # past the last write's expiry
    store.update("other", "x", lambda r: ({"n": 2}, None))
    assert ("ratelimit", "GB") not in store._data
