"""Grants: the authentication log a session carries, checked on every protected request.

The log lives in the app's session under ``"_stepup"``: who logged in, a per-login nonce,
whether the login still waits for its second factor, and when each method last passed
(like OIDC's ``amr`` and ``auth_time``). Checking it is a few dictionary look-ups and a
clock read; nothing here does I/O.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = [
    "SESSION_KEY",
    "begin_login",
    "end_login",
    "is_held",
    "last_verified",
    "previous_nonce",
    "record_factor",
    "satisfies",
    "session_nonce",
]

SESSION_KEY = "_stepup"
Session = MutableMapping[str, Any]


def begin_login(session: Session, subject: str, *, identity_source: str | None, hold: bool) -> None:
    """Start a fresh log for a new login; earlier grants die with the old login.

    :param session: the app's session.
    :param subject: who logged in.
    :param identity_source: how they logged in (``password``, ``sso``, ...).
    :param hold: keep the session half authenticated until a second factor passes.
    """
    session[SESSION_KEY] = {
        "sub": subject,
        "n": secrets.token_urlsafe(16),
        "src": identity_source,
        "hold": hold,
        "amr": {},
    }


def end_login(session: Session) -> None:
    """Forget the log (logout): pending challenges and grants of this login end with it."""
    session.pop(SESSION_KEY, None)


def _log(session: Session, subject: str | None) -> dict[str, Any] | None:
    log = session.get(SESSION_KEY)
    if not isinstance(log, dict) or (subject is not None and log.get("sub") != subject):
        return None
    return log


def session_nonce(session: Session, subject: str | None = None) -> str | None:
    """The per-login nonce that challenges and resume tokens are bound to."""
    log = _log(session, subject)
    return None if log is None else log.get("n")


def previous_nonce(session: Session, subject: str | None = None) -> str | None:
    """The nonce the last second factor replaced: read a challenge with it only to tell a
    user who comes back to a code page that passed (Back, a form sent twice) that it was
    used, never to verify or resume anything."""
    log = _log(session, subject)
    return None if log is None else log.get("pn")


def is_held(session: Session, subject: str) -> bool:
    """Whether the login of ``subject`` still waits for its second factor."""
    log = _log(session, subject)
    return log is None or bool(log.get("hold"))


def record_factor(session: Session, subject: str, method: str, now: float) -> None:
    """Record that ``method`` passed now; lifts a login hold.

    The nonce is renewed: whatever was bound to the session before the second factor
    (a fixed session id, a resume token) is not trusted after it. The old one is kept
    only so that :func:`previous_nonce` can recognise the challenge that just passed.
    """
    log = _log(session, subject)
    if log is None:
        begin_login(session, subject, identity_source=None, hold=False)
        log = session[SESSION_KEY]
    log = {
        **log, "hold": False, "amr": {**log.get("amr", {}), method: now},
        "n": secrets.token_urlsafe(16), "pn": log.get("n"),
    }  # fmt: skip
    session[SESSION_KEY] = log


def last_verified(session: Session, subject: str, methods: Iterable[str] | None = None) -> float | None:
    """When a second factor among ``methods`` (any if ``None``) last passed, or ``None``."""
    log = _log(session, subject)
    if log is None:
        return None
    amr: dict[str, float] = log.get("amr", {})
    times = [t for m, t in amr.items() if methods is None or m in methods]
    return max(times) if times else None


def satisfies(
    session: Session,
    subject: str,
    *,
    max_age: float,
    now: float,
    methods: frozenset[str] | None = None,
    grace: float = 0,
) -> bool:
    """Whether the session holds a grant fresh enough for a route.

    :param max_age: seconds since the last second factor that the route accepts.
    :param now: the current time.
    :param methods: methods the route accepts (``None``: any second factor).
    :param grace: seconds after any step-up in which a route does not ask again.
    """
    log = session.get(SESSION_KEY)
    if not isinstance(log, dict) or log.get("sub") != subject or log.get("hold"):
        return False
    best = None
    for method, at in log["amr"].items():
        if (methods is None or method in methods) and (best is None or at > best):
            best = at
    return best is not None and now - best <= max(max_age, grace)
