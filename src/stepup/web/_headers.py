"""The headers every answer of stepup's carries, written once for both adapters.

stepup's pages hold code forms and method switches: a page of another site must not frame
them (clickjacking: the user's click on a decoy lands on "Remove this phone"), and their
URLs, which carry signed tokens, must not leak to other sites in ``Referer``. Each adapter's
``respond`` adds :func:`page_headers` to every page, redirect and JSON answer of stepup's
(a header the answer set itself wins).
"""

from __future__ import annotations

from .._config import Settings

__all__ = ["PAGE_HEADER_NAMES", "page_headers"]

#: the names of the headers :func:`page_headers` may send, in lower case.
PAGE_HEADER_NAMES = frozenset(
    {"content-security-policy", "referrer-policy", "x-content-type-options", "x-frame-options"}
)


def page_headers(settings: Settings) -> tuple[tuple[str, str], ...]:
    """The security headers of stepup's answers under ``settings``.

    ``frame_ancestors`` is the source list of CSP's ``frame-ancestors``: ``'none'`` (the
    default) also sends ``X-Frame-Options: DENY`` for browsers without CSP, ``'self'``
    ``SAMEORIGIN``; a list of origins sends CSP alone (``X-Frame-Options`` cannot name
    another origin).

    :param settings: the app's settings.
    """
    ancestors = settings.frame_ancestors
    headers = [
        ("Content-Security-Policy", f"frame-ancestors {ancestors}"),
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    legacy = {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(ancestors)
    if legacy is not None:
        headers.append(("X-Frame-Options", legacy))
    return tuple(headers)
