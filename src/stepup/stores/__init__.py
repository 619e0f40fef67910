"""Stores: where stepup keeps its state, chosen by URL."""

from ._base import AsyncStore as AsyncStore
from ._base import AsyncStoreAdapter as AsyncStoreAdapter
from ._base import Mutator as Mutator
from ._base import Record as Record
from ._base import Store as Store
from ._memory import MemoryStore as MemoryStore
from ._sqlite import SQLiteStore as SQLiteStore
from ._url import async_store_from_url as async_store_from_url
from ._url import store_from_url as store_from_url

__all__ = [
    "AsyncStore",
    "AsyncStoreAdapter",
    "MemoryStore",
    "Mutator",
    "Record",
    "SQLiteStore",
    "Store",
    "async_store_from_url",
    "store_from_url",
]
