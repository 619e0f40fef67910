"""Stores chosen by URL: one table, scheme -> backend. Drivers are imported only when
their scheme is used, so an app needs only the drivers of the stores it names."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import NamedTuple

from .._clock import Clock, system_clock
from .._errors import ConfigurationError
from .._schemes import by_scheme
from ._adapter import AsyncStoreAdapter
from ._base import AsyncStore, Store
from ._memory import MemoryStore
from ._sqlite import SQLiteStore

__all__ = ["async_store_from_url", "store_from_url"]


def _memory(url: str, clock: Clock, require_noeviction: bool) -> Store:
    return MemoryStore(clock)


def _sqlite(url: str, clock: Clock, require_noeviction: bool) -> Store:
    # sqlite:///relative/file.db and sqlite:////absolute/file.db, as SQLAlchemy writes them.
    return SQLiteStore(url.split(":///", 1)[1] if ":///" in url else "", clock)


def _redis_module() -> types.ModuleType:
    try:
        from . import _redis
    except ImportError as e:
        if not (e.name or "").startswith("redis"):
            raise
        raise ConfigurationError("Redis stores need redis-py: pip install 'stepup[redis]'.") from e
    return _redis


def _redis(url: str, clock: Clock, require_noeviction: bool) -> Store:
    return _redis_module().RedisStore(url, clock, require_noeviction=require_noeviction)  # type: ignore[no-any-return]


def _async_redis(url: str, clock: Clock, require_noeviction: bool) -> AsyncStore:
    return _redis_module().AsyncRedisStore(url, clock, require_noeviction=require_noeviction)  # type: ignore[no-any-return]


class _Backend(NamedTuple):
    #: ``(url, clock, require_noeviction)``; only Redis can evict, the others ignore it.
    sync: Callable[[str, Clock, bool], Store]
    #: a native asyncio store; without one the sync store runs through AsyncStoreAdapter.
    native_async: Callable[[str, Clock, bool], AsyncStore] | None = None
    #: whether the sync store's calls block (they then go to a worker thread in async code).
    blocking: bool = False


_SCHEMES: dict[str, _Backend] = {
    "memory": _Backend(_memory),
    "sqlite": _Backend(_sqlite, blocking=True),
    "redis": _Backend(_redis, _async_redis, blocking=True),
    "rediss": _Backend(_redis, _async_redis, blocking=True),
    "redis+sentinel": _Backend(_redis, _async_redis, blocking=True),
    "redis+cluster": _Backend(_redis, _async_redis, blocking=True),
}


def _lookup(url: str) -> _Backend:
    return by_scheme(_SCHEMES, url, "store")


def store_from_url(url: str, clock: Clock = system_clock, *, require_noeviction: bool = False) -> Store:
    """The store a URL names.

    :param url: ``memory://``, ``sqlite:///path``, ``redis://host:port/db``,
        ``rediss://...``, ``redis+sentinel://host:port/service`` or
        ``redis+cluster://host:port,host:port``.
    :param clock: the time source for expiry.
    :param require_noeviction: a Redis store refuses a server whose ``maxmemory-policy``
        may evict keys, rather than log a warning (``STEPUP_STORE_REQUIRE_NOEVICTION``).
    :raises ConfigurationError: for an unknown scheme (naming the known ones), a URL that
        cannot be used, or a driver that is not installed.
    """
    return _lookup(url).sync(url, clock, require_noeviction)


def async_store_from_url(url: str, clock: Clock = system_clock, *, require_noeviction: bool = False) -> AsyncStore:
    """The async store a URL names: a native asyncio store where there is one (Redis),
    else the sync store, with blocking calls in worker threads.

    :param url: as for :func:`store_from_url`.
    :param clock: the time source for expiry.
    :param require_noeviction: as for :func:`store_from_url`.
    :raises ConfigurationError: as for :func:`store_from_url`.
    """
    backend = _lookup(url)
    if backend.native_async is not None:
        return backend.native_async(url, clock, require_noeviction)
    return AsyncStoreAdapter(backend.sync(url, clock, require_noeviction), offload=backend.blocking)
