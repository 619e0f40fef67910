"""Stores: where stepup keeps its state, chosen by URL.

``RedisStore`` and ``AsyncRedisStore`` are importable from here too; they import redis-py
on first use, so apps without Redis do not need it.
"""

from typing import TYPE_CHECKING, Any

from ._adapter import AsyncStoreAdapter as AsyncStoreAdapter
from ._adapter import as_async_store as as_async_store
from ._adapter import sync_store as sync_store
from ._base import AfterRead as AfterRead
from ._base import AsyncStore as AsyncStore
from ._base import Item as Item
from ._base import ManyMutator as ManyMutator
from ._base import Mutator as Mutator
from ._base import Record as Record
from ._base import Store as Store
from ._base import Write as Write
from ._base import async_with_many as async_with_many
from ._base import one_record as one_record
from ._base import update_after as update_after
from ._base import with_many as with_many
from ._memory import MemoryStore as MemoryStore
from ._sqlite import SQLiteStore as SQLiteStore
from ._url import async_store_from_url as async_store_from_url
from ._url import store_from_url as store_from_url

if TYPE_CHECKING:
    from ._redis import AsyncRedisStore as AsyncRedisStore
    from ._redis import RedisStore as RedisStore

__all__ = [
    "AfterRead",
    "AsyncRedisStore",
    "AsyncStore",
    "AsyncStoreAdapter",
    "Item",
    "ManyMutator",
    "MemoryStore",
    "Mutator",
    "Record",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "Write",
    "as_async_store",
    "async_store_from_url",
    "async_with_many",
    "one_record",
    "store_from_url",
    "sync_store",
    "update_after",
    "with_many",
]


def __getattr__(name: str) -> Any:
    if name in {"RedisStore", "AsyncRedisStore"}:
        from . import _url

        return getattr(_url._redis_module(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
