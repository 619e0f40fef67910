"""Backends chosen by the scheme of a URL, for stores and senders alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = ["by_scheme"]

T = TypeVar("T")


def by_scheme(table: Mapping[str, T], url: str, what: str) -> T:
    """The entry of ``table`` for the scheme of ``url``.

    :param what: what the URL names, for the error (``store``, ``sender``).
    :raises ConfigurationError: for an unknown scheme, naming the known ones (and never
        the rest of the URL, which may hold credentials).
    """
    scheme = urlsplit(url).scheme if isinstance(url, str) else ""
    try:
        return table[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in sorted(table))
        shown = repr(scheme) if scheme else "without a scheme"
        raise ConfigurationError(f"Unknown {what} URL scheme {shown}: use one of {known}.") from None
