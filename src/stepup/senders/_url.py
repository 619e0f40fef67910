"""Senders chosen by URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from .._errors import ConfigurationError
from ._base import AsyncSender, AsyncSenderAdapter, Sender
from ._local import ConsoleSender, FileSender, MemorySender

__all__ = ["async_sender_from_url", "sender_from_url"]


def _file(url: str) -> Sender:
    path = unquote(urlsplit(url).path)
    if not path:
        raise ConfigurationError("A file:// sender needs a path: file:///var/tmp/outbox.jsonl.")
    return FileSender(path)


#: scheme -> (factory, whether its sends block and go to a worker thread in async code)
_SCHEMES: dict[str, tuple[Callable[[str], Sender], bool]] = {
    "console": (lambda url: ConsoleSender(), False),
    "file": (_file, True),
    "memory": (lambda url: MemorySender(), False),
}


def _lookup(url: str) -> tuple[Callable[[str], Sender], bool]:
    scheme = urlsplit(url).scheme
    try:
        return _SCHEMES[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in sorted(_SCHEMES))
        raise ConfigurationError(f"Unknown sender URL scheme {scheme!r}: use one of {known}.") from None


def sender_from_url(url: str) -> Sender:
    """The sender a URL names.

    :param url: ``console://``, ``file:///path`` or ``memory://``.
    :raises ConfigurationError: for an unknown scheme, naming the known ones.
    """
    factory, _ = _lookup(url)
    return factory(url)


def async_sender_from_url(url: str) -> AsyncSender:
    """The async sender a URL names; blocking senders run in worker threads.

    :raises ConfigurationError: for an unknown scheme.
    """
    factory, blocking = _lookup(url)
    return AsyncSenderAdapter(factory(url), offload=blocking)
