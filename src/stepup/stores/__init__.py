"""Stores: where stepup keeps its state, chosen by URL.

``RedisStore`` and ``AsyncRedisStore`` are importable from here too; they import redis-py
on first use, so apps without Redis do not need it.
"""

from typing import TYPE_CHECKING, Any

from ._base import AsyncStore as AsyncStore
from ._base import AsyncStoreAdapter as AsyncStoreAdapter
from ._base import Mutator as Mutator
from ._base import Record as Record
from ._base import Store as Store
from ._memory import MemoryStore as MemoryStore
from ._sqlite import SQLiteStore as SQLiteStore
from ._url import async_store_from_url as async_store_from_url
from ._url import store_from_url as store_from_url

if TYPE_CHECKING:
    from ._redis import AsyncRedisStore as AsyncRedisStore
    from ._redis import RedisStore as RedisStore

__all__ = [
    "AsyncRedisStore",
    "AsyncStore",
    "AsyncStoreAdapter",
    "MemoryStore",
    "Mutator",
    "Record",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "async_store_from_url",
    "store_from_url",
]


def __getattr__(name: str) -> Any:
    if name in {"RedisStore", "AsyncRedisStore"}:
        from . import _url

        return getattr(_url._redis_module(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
