"""The store contract on ``memory://``."""

from __future__ import annotations

import pytest

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
