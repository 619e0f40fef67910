"""Where the async engine keeps its rate limits: a native async store brings a ``limits``
storage of its own, or the engine refuses it at start-up instead of failing later."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import stepup
from stepup.stores import AsyncStoreAdapter, MemoryStore

SECRET = "s" * 40


class _NativeAsyncStore:
    """An async store of someone's own, without a ``limits`` storage."""

    def __init__(self) -> None:
        self._inner = AsyncStoreAdapter(MemoryStore(), offload=False)

    async def get(self, kind: str, key: str) -> Any:
        return await self._inner.get(kind, key)

    async def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return await self._inner.update(kind, key, fn, ttl)

    async def delete(self, kind: str, key: str) -> None:
        await self._inner.delete(kind, key)

    async def close(self) -> None:
        await self._inner.close()


def test_a_native_async_store_without_a_limits_storage_is_refused_with_advice() -> None:
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.AsyncEngine(secret_key=SECRET, store=_NativeAsyncStore())  # type: ignore[arg-type]
    assert "rate_limit_storage()" in caught.value.message and "AsyncStoreAdapter" in caught.value.message


def test_an_adapted_sync_store_keeps_its_limits_in_the_store() -> None:
    async def main() -> str:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store=AsyncStoreAdapter(MemoryStore(), offload=False), sms_url="memory://",
            limit_challenges_per_subject="1/minute",
        )  # fmt: skip
        try:
            await engine.import_binding("alice", "totp")
            await engine.start("alice", "totp")
            with pytest.raises(stepup.RateLimited) as caught:
                await engine.start("alice", "totp")
            return caught.value.limit
        finally:
            await engine.close()

    assert asyncio.run(main()) == "challenges_per_subject"
