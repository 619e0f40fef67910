"""Replaying a saved request after approval, the parts both adapters share.

The approving response (the code form's POST) saved the session with its new grant; the
replay must see that session, so the cookies it set are laid over the request's
``Cookie`` header before the saved request goes through the app again. Whatever cookies
the replayed response does not set itself are passed on from the approving one.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie

__all__ = ["cookie_names", "merge_cookies"]


def _parse(set_cookie: str) -> SimpleCookie | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(set_cookie)
    except CookieError:
        return None
    return jar


def merge_cookies(cookie_header: str, set_cookies: Iterable[str]) -> str:
    """The ``Cookie`` header a browser would send after receiving ``set_cookies``.

    :param cookie_header: the request's ``Cookie`` header.
    :param set_cookies: ``Set-Cookie`` values of the approving response.
    """
    jar: dict[str, str] = {}
    current: SimpleCookie = SimpleCookie()
    try:
        current.load(cookie_header or "")
    except CookieError:
        pass
    for name, morsel in current.items():
        jar[name] = morsel.coded_value
    for value in set_cookies:
        parsed = _parse(value)
        if parsed is None:
            continue
        for name, morsel in parsed.items():
            if morsel["max-age"] in ("0", "-1") or "1970" in morsel["expires"]:
                jar.pop(name, None)
            else:
                jar[name] = morsel.coded_value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def cookie_names(set_cookies: Iterable[str]) -> set[str]:
    """The names of the cookies some ``Set-Cookie`` values set."""
    names: set[str] = set()
    for value in set_cookies:
        parsed = _parse(value)
        if parsed is not None:
            names.update(parsed.keys())
    return names
