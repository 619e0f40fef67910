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

from ._core import Flow
from ._crypto import new_id
from ._errors import InvalidInput
from ._flows import ChallengeFlows

__all__ = ["BROWSER", "DEVICE", "DeviceFlows", "RememberedBrowser"]

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


class DeviceFlows(ChallengeFlows):
    """The flows of remembered browsers."""

    def _fingerprint(self, subject: str) -> Flow[tuple[str, ...]]:
        """What a browser's fingerprint digests: the subject's bindings as they are now."""
        record = yield from self._subject(subject)
        parts = sorted(f"{b['id']}:{b['method']}:{b.get('target', '')}" for b in record.get("bindings", []))
        return ("bindings", subject, *parts)

    def _live(self, browsers: list[dict[str, Any]], fingerprint: tuple[str, ...], now: float) -> list[dict[str, Any]]:
        """The browsers still remembered: within their period, bindings unchanged (the
        fingerprint made under any key, so a key rotation forgets no browser)."""
        period, keys = self.settings.trusted_device_days * 86400, self.keys
        return [b for b in browsers if b["created"] + period >= now and keys.matches(b["fingerprint"], *fingerprint)]

    def _remember_device(self, subject: str, *, methods: Iterable[str], user_agent: str | None = None) -> Flow[str]:
        """Remember a browser of ``subject`` for ``trusted_device_days``.

        :param methods: the methods the login passed with (its second factor): the browser
            lifts a later login's hold only while the policy allows one of them.
        :param user_agent: the browser's ``User-Agent``, kept to tell browsers apart.
        :returns: the cookie value: an opaque random id.
        :raises InvalidInput: when ``trusted_device_days`` is 0 (the option is off), or
            ``methods`` names none.
        """
        s = self.settings
        if s.trusted_device_days <= 0:
            raise InvalidInput("Remembering devices is switched off (trusted_device_days is 0).")
        passed = sorted({str(m) for m in ([methods] if isinstance(methods, str) else methods)})
        if not passed:
            raise InvalidInput("Name the methods the login passed with: a browser is remembered for them.")
        fingerprint = yield from self._fingerprint(subject)
        token, now = new_id(), self.clock()
        entry = {
            "digest": self.keys.digest("device", subject, token),
            "id": new_id(),
            "created": now,
            "seen": now,
            "agent": (user_agent or "")[:_AGENT_CHARS],
            "fingerprint": self.keys.digest(*fingerprint),
            "methods": passed,
        }
        live, cap = self._live, s.trusted_devices_per_subject

        def add(record: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
            kept = live((record or {}).get("browsers", []), fingerprint, now)
            return {"browsers": [entry, *kept][:cap]}, None  # newest first: the oldest go

        # The period's last second included, as for every browser in the record.
        ttl = float(s.trusted_device_days * 86400 + 1)
        yield from self._io("store", "update", DEVICE, subject, add, ttl)
        owner = {"subject": subject}
        key = self.keys.digest("browser", token)
        yield from self._io("store", "update", BROWSER, key, lambda _: (owner, None), ttl)
        return token

    def _is_trusted_device(self, subject: str, token: object) -> Flow[bool]:
        """Whether ``token`` (the cookie) is a browser ``subject`` remembered, within its
        period, with the subject's bindings unchanged since and one of the methods it was
        remembered with allowed for the subject now (globally, or for the subject); its
        last-seen time is updated. A browser whose bindings changed is forgotten here."""
        if self.settings.trusted_device_days <= 0 or not isinstance(token, str) or not 16 <= len(token) <= 64:
            return False
        fingerprint = yield from self._fingerprint(subject)
        allowed = (yield from self._policy()).methods(subject=subject)
        keys, live, now = self.keys, self._live, self.clock()

        def seen(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
            if record is None:
                return None, False
            browsers = live(record.get("browsers", []), fingerprint, now)
            found = False
            for b in browsers:
                if keys.matches(b["digest"], "device", subject, token):
                    # One remembered before it named its methods stands for none.
                    b["seen"], found = now, not allowed.isdisjoint(b.get("methods", ()))
            return {"browsers": browsers}, found

        trusted: bool = yield from self._io("store", "update", DEVICE, subject, seen, None)
        return trusted

    def _devices(self, subject: str) -> Flow[list[RememberedBrowser]]:
        """The browsers ``subject`` has remembered, newest first."""
        fingerprint = yield from self._fingerprint(subject)
        record = yield from self._io("store", "get", DEVICE, subject)
        period = self.settings.trusted_device_days * 86400
        return [
            RememberedBrowser(b["id"], b["created"], b["seen"], b["created"] + period, b["agent"])
            for b in self._live((record or {}).get("browsers", []), fingerprint, self.clock())
        ]

    def _forget_device(self, subject: str, device_id: str | None = None, *, token: str | None = None) -> Flow[bool]:
        """Forget one remembered browser of ``subject``: by its handle from
        :meth:`devices`, or by its cookie (signing out with "forget this browser").

        :returns: whether such a browser was remembered.
        """
        keys = self.keys

        def this_one(b: dict[str, Any]) -> bool:
            by_cookie = isinstance(token, str) and keys.matches(b["digest"], "device", subject, token)
            return b["id"] == device_id or by_cookie

        def forget(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
            browsers = (record or {}).get("browsers", [])
            kept = [b for b in browsers if not this_one(b)]
            return ({"browsers": kept} if kept else None), len(kept) < len(browsers)

        forgot: bool = yield from self._io("store", "update", DEVICE, subject, forget, None)
        return forgot

    def _forget_browser(self, token: str, *, subject: str | None = None) -> Flow[bool]:
        """Forget the remembered browser whose cookie is ``token``, whoever is signed in
        (the cookie alone names it): "sign out and forget this browser".

        :param subject: the signed-in subject, for a browser remembered before its cookie
            could find its subject.
        :returns: whether such a browser was remembered.
        """
        if not isinstance(token, str) or not 16 <= len(token) <= 64:
            return False
        key = self.keys.digest("browser", token)
        owner = yield from self._io("store", "get", BROWSER, key)
        found = owner.get("subject") if owner else subject
        if not isinstance(found, str):
            return False
        forgot = yield from self._forget_device(found, token=token)
        yield from self._io("store", "delete", BROWSER, key)
        return forgot

    def _forget_devices(self, subject: str) -> Flow[None]:
        """Forget every remembered browser of ``subject`` (a lost laptop, a password reset)."""
        yield from self._io("store", "delete", DEVICE, subject)
