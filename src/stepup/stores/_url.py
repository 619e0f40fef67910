"""Stores chosen by URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from .._clock import Clock, system_clock
from .._errors import ConfigurationError
from ._base import AsyncStore, AsyncStoreAdapter, Store
from ._memory import MemoryStore
from ._sqlite import SQLiteStore

__all__ = ["async_store_from_url", "store_from_url"]


def _memory(url: str, clock: Clock) -> Store:
    return MemoryStore(clock)


def _sqlite(url: str, clock: Clock) -> Store:
    # sqlite:///relative/file.db and sqlite:////absolute/file.db, as SQLAlchemy writes them.
    return SQLiteStore(url.split(":///", 1)[1] if ":///" in url else "", clock)


#: scheme -> (factory, whether its calls block and go to a worker thread in async code)
_SCHEMES: dict[str, tuple[Callable[[str, Clock], Store], bool]] = {
    "memory": (_memory, False),
    "sqlite": (_sqlite, True),
}


def _lookup(url: str) -> tuple[Callable[[str, Clock], Store], bool]:
    scheme = urlsplit(url).scheme
    try:
        return _SCHEMES[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in sorted(_SCHEMES))
        raise ConfigurationError(f"Unknown store URL {scheme or url!r}: use one of {known}.") from None


def store_from_url(url: str, clock: Clock = system_clock) -> Store:
    """The store a URL names.

    :param url: ``memory://`` or ``sqlite:///path``.
    :param clock: the time source for expiry.
    :raises ConfigurationError: for an unknown scheme, naming the known ones.
    """
    factory, _ = _lookup(url)
    return factory(url, clock)


def async_store_from_url(url: str, clock: Clock = system_clock) -> AsyncStore:
    """The async store a URL names; blocking stores run in worker threads.

    :param url: as for :func:`store_from_url`.
    :param clock: the time source for expiry.
    :raises ConfigurationError: for an unknown scheme.
    """
    factory, blocking = _lookup(url)
    return AsyncStoreAdapter(factory(url, clock), offload=blocking)
