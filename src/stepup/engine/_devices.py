"""Remembered browsers ("remember this browser for N days"), for both engines.

The cookie holds an opaque random id and nothing else (no user name, nothing signed to
read). Its record lives in the store, in one record per subject of kind ``device``: for
each browser a keyed digest of its id (a reader of the store cannot make a cookie), a
public handle to list and revoke it by, when it was remembered and last seen, its user
agent, the fingerprint of the subject's bindings when it was remembered, and the methods
the login that remembered it passed with. The record lives as long as the remember period;
each browser's own period is checked on every use.

A browser stops being remembered when its period ends, when any binding of the subject
changes (the fingerprint no longer matches), when it is forgotten (one browser, by its
handle or its cookie; or all of a subject's), or when a newer browser pushes it out of
the cap (``trusted_devices_per_subject``, newest wins). It lifts a login's hold only while
the policy allows the subject one of the methods it was remembered with: switching that
method off asks such a browser for a second factor again (by a method still on). A browser
remembered before the record named its methods lifts no hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._crypto import new_id
from .._errors import InvalidInput
from .._i18n import T
from ._context import Context
from ._effects import Flow, delete, get, update
from ._records import read_policy, read_subject

__all__ = [
    "BROWSER", "DEVICE", "RememberedBrowser", "devices", "forget_browser", "forget_device", "forget_devices",
    "is_trusted_device", "remember_device",
]  # fmt: skip

#: the store kind of a subject's remembered browsers.
DEVICE = "device"
#: the store kind that finds a remembered browser's subject by its cookie (a keyed digest
#: of it), so that the cookie alone forgets its browser, signed in or not.
BROWSER = "browser"
#: characters of a user agent kept (enough to tell browsers apart in a list).
_AGENT_CHARS = 200


@dataclass(frozen=True, slots=True)
class RememberedBrowser:
    """One remembered browser of a subject, as :meth:`Engine.devices` lists it.

    :ivar id: the handle to forget it by (not the cookie: it cannot sign anyone in).
    :ivar user_agent: the browser's ``User-Agent`` when it was remembered, shortened.
    """

    id: str
    created_at: float
    last_seen_at: float
    expires_at: float
    user_agent: str
    #: roughly where it was remembered ("London, GB"), when the app gives ``locate``.
    place: str | None = None


def _fingerprint(ctx: Context, subject: str) -> Flow[tuple[str, ...]]:
    """What a browser's fingerprint digests: the subject's bindings as they are now."""
    record = yield from read_subject(ctx, subject)
    parts = sorted(f"{b['id']}:{b['method']}:{b.get('target', '')}" for b in record.get("bindings", []))
    return ("bindings", subject, *parts)


def _live(
    ctx: Context, browsers: list[dict[str, Any]], fingerprint: tuple[str, ...], now: float
) -> list[dict[str, Any]]:
    """The browsers still remembered: within their period, bindings unchanged (the
    fingerprint made under any key, so a key rotation forgets no browser)."""
    period, keys = ctx.settings.trusted_device_days * 86400, ctx.keys
    return [b for b in browsers if b["created"] + period >= now and keys.matches(b["fingerprint"], *fingerprint)]


def remember_device(
    ctx: Context, subject: str, *, methods: Iterable[str], user_agent: str | None = None, client: str | None = None
) -> Flow[str]:
    """Remember a browser of ``subject`` for ``trusted_device_days``.

    :param methods: the methods the login passed with (its second factor): the browser
        lifts a later login's hold only while the policy allows one of them.
    :param user_agent: the browser's ``User-Agent``, kept to tell browsers apart.
    :param client: the browser's address: only the place the app's ``locate`` makes of
        it is kept, never the address.
    :returns: the cookie value: an opaque random id.
    :raises InvalidInput: when ``trusted_device_days`` is 0 (the option is off), or
        ``methods`` names none.
    """
    s = ctx.settings
    if s.trusted_device_days <= 0:
        raise InvalidInput(T("Remembering devices is switched off (trusted_device_days is 0)."))
    passed = sorted({str(m) for m in ([methods] if isinstance(methods, str) else methods)})
    if not passed:
        raise InvalidInput(T("Name the methods the login passed with: a browser is remembered for them."))
    fingerprint = yield from _fingerprint(ctx, subject)
    token, now = new_id(), ctx.clock()
    entry = {
        "digest": ctx.keys.digest("device", subject, token),
        "id": new_id(),
        "created": now,
        "seen": now,
        "agent": (user_agent or "")[:_AGENT_CHARS],
        "fingerprint": ctx.keys.digest(*fingerprint),
        "methods": passed,
    }
    place = _place(ctx, client)
    if place:
        entry["place"] = place
    cap = s.trusted_devices_per_subject

    def add(record: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        kept = _live(ctx, (record or {}).get("browsers", []), fingerprint, now)
        return {"browsers": [entry, *kept][:cap]}, None  # newest first: the oldest go

    # The period's last second included, as for every browser in the record.
    ttl = float(s.trusted_device_days * 86400 + 1)
    yield from update(ctx, DEVICE, subject, add, ttl)
    owner = {"subject": subject}
    key = ctx.keys.digest("browser", token)
    yield from update(ctx, BROWSER, key, lambda _: (owner, None), ttl)
    ctx.emit("browser_remembered", None, subject=subject, detail={"browser": entry["id"]})
    return token


def _place(ctx: Context, client: str | None) -> str | None:
    """Where ``client`` is, by the app's ``locate`` (a failing look-up names no place)."""
    if ctx.locate is None or not client:
        return None
    try:
        place = ctx.locate(client)
    except Exception:  # the app's look-up: a place is a nicety, never a reason to fail
        return None
    return place[:_AGENT_CHARS] if isinstance(place, str) else None


def is_trusted_device(ctx: Context, subject: str, token: object) -> Flow[bool]:
    """Whether ``token`` (the cookie) is a browser ``subject`` remembered, within its
    period, with the subject's bindings unchanged since and one of the methods it was
    remembered with allowed for the subject now (globally, or for the subject); its
    last-seen time is updated. A browser whose bindings changed is forgotten here."""
    if ctx.settings.trusted_device_days <= 0 or not isinstance(token, str) or not 16 <= len(token) <= 64:
        return False
    fingerprint = yield from _fingerprint(ctx, subject)
    allowed = (yield from read_policy(ctx)).methods(subject=subject)
    keys, now = ctx.keys, ctx.clock()

    def seen(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        if record is None:
            return None, False
        browsers = _live(ctx, record.get("browsers", []), fingerprint, now)
        found = False
        for b in browsers:
            if keys.matches(b["digest"], "device", subject, token):
                # One remembered before it named its methods stands for none.
                b["seen"], found = now, not allowed.isdisjoint(b.get("methods", ()))
        return {"browsers": browsers}, found

    trusted: bool = yield from update(ctx, DEVICE, subject, seen, None)
    if trusted:
        ctx.emit("browser_used", None, subject=subject)
    return trusted


def devices(ctx: Context, subject: str) -> Flow[list[RememberedBrowser]]:
    """The browsers ``subject`` has remembered, newest first."""
    fingerprint = yield from _fingerprint(ctx, subject)
    record = yield from get(ctx, DEVICE, subject)
    period = ctx.settings.trusted_device_days * 86400
    return [
        RememberedBrowser(b["id"], b["created"], b["seen"], b["created"] + period, b["agent"], b.get("place"))
        for b in _live(ctx, (record or {}).get("browsers", []), fingerprint, ctx.clock())
    ]


def forget_device(ctx: Context, subject: str, device_id: str | None = None, *, token: str | None = None) -> Flow[bool]:
    """Forget one remembered browser of ``subject``: by its handle from
    :meth:`devices`, or by its cookie (signing out with "forget this browser").

    :returns: whether such a browser was remembered.
    """
    keys = ctx.keys

    def this_one(b: dict[str, Any]) -> bool:
        by_cookie = isinstance(token, str) and keys.matches(b["digest"], "device", subject, token)
        return b["id"] == device_id or by_cookie

    def forget(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        browsers = (record or {}).get("browsers", [])
        kept = [b for b in browsers if not this_one(b)]
        return ({"browsers": kept} if kept else None), len(kept) < len(browsers)

    forgot: bool = yield from update(ctx, DEVICE, subject, forget, None)
    if forgot:
        ctx.emit("browser_forgotten", None, subject=subject, detail={"browser": device_id or "this"})
    return forgot


def forget_browser(ctx: Context, token: str, *, subject: str | None = None) -> Flow[bool]:
    """Forget the remembered browser whose cookie is ``token``, whoever is signed in
    (the cookie alone names it): "sign out and forget this browser".

    :param subject: the signed-in subject, for a browser remembered before its cookie
        could find its subject.
    :returns: whether such a browser was remembered.
    """
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        return False
    key = ctx.keys.digest("browser", token)
    owner = yield from get(ctx, BROWSER, key)
    found = owner.get("subject") if owner else subject
    if not isinstance(found, str):
        return False
    forgot = yield from forget_device(ctx, found, token=token)
    yield from delete(ctx, BROWSER, key)
    return forgot


def forget_devices(ctx: Context, subject: str) -> Flow[None]:
    """Forget every remembered browser of ``subject`` (a lost laptop, a password reset)."""
    yield from delete(ctx, DEVICE, subject)
    ctx.emit("browser_forgotten", None, subject=subject, detail={"browser": "all"})
