"""Grants: the authentication log a session carries, checked on every protected request.

The log lives in the app's session under ``"_stepup"``: who logged in, a per-login nonce,
whether the login still waits for its second factor, and when each method last passed
(like OIDC's ``amr`` and ``auth_time``). Checking it is a string split, a few comparisons
and a clock read; nothing here does I/O.

The log is one short string, not a nested dict, because it rides in the session cookie of
every request: session serializers pay for every value and every byte they decode (Flask's
tagged JSON walks each nested value), and the log is most of what stepup adds to a request
that it lets through. Its fields, ``|``-separated, the subject last so that it may hold
any character::

    h|<nonce>|<previous nonce>|sms=1700000000,totp=1700000100|alice

The first field is ``h`` while the login is held, empty after. Times are whole seconds,
rounded down, so that a grant never looks fresher than it is (and an integer parses in a
fraction of the time of a decimal). Only this module reads or writes the log.
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
    "login_subject",
    "previous_nonce",
    "record_factor",
    "satisfies",
    "session_nonce",
]

SESSION_KEY = "_stepup"
Session = MutableMapping[str, Any]

_HOLD, _NONCE, _PREVIOUS, _AMR, _SUBJECT = range(5)
_SEPARATORS = frozenset("|,=")


def _fields(session: Session, subject: str | None) -> list[str] | None:
    """The log's fields, or ``None`` when there is none (or it is of another subject)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str):
        return None
    fields = value.split("|", 4)
    if len(fields) != 5 or (subject is not None and fields[_SUBJECT] != subject):
        return None
    return fields


def _amr(field: str) -> dict[str, int]:
    """``method=time,...`` as a dict."""
    amr: dict[str, int] = {}
    for item in field.split(",") if field else ():
        method, _, at = item.partition("=")
        amr[method] = int(at)
    return amr


def begin_login(session: Session, subject: str, *, identity_source: str | None, hold: bool) -> None:
    """Start a fresh log for a new login; earlier grants die with the old login.

    :param session: the app's session.
    :param subject: who logged in.
    :param identity_source: how they logged in (``password``, ``sso``, ...); the policy
        reads it when the login starts, so the log does not carry it.
    :param hold: keep the session half authenticated until a second factor passes.
    """
    session[SESSION_KEY] = "|".join(("h" if hold else "", secrets.token_urlsafe(16), "", "", subject))


def end_login(session: Session) -> None:
    """Forget the log (logout): pending challenges and grants of this login end with it."""
    session.pop(SESSION_KEY, None)


def login_subject(session: Session) -> str | None:
    """Whose login the log records, or ``None`` when the session has no log."""
    fields = _fields(session, None)
    return None if fields is None else fields[_SUBJECT]


def session_nonce(session: Session, subject: str | None = None) -> str | None:
    """The per-login nonce that challenges and resume tokens are bound to."""
    fields = _fields(session, subject)
    return None if fields is None else fields[_NONCE]


def previous_nonce(session: Session, subject: str | None = None) -> str | None:
    """The nonce the last second factor replaced: read a challenge with it only to tell a
    user who comes back to a code page that passed (Back, a form sent twice) that it was
    used, never to verify or resume anything."""
    fields = _fields(session, subject)
    return None if fields is None else fields[_PREVIOUS] or None


def is_held(session: Session, subject: str) -> bool:
    """Whether the login of ``subject`` still waits for its second factor (also when the
    session has no log of ``subject``)."""
    fields = _fields(session, subject)
    return fields is None or bool(fields[_HOLD])


def record_factor(session: Session, subject: str, method: str, now: float) -> None:
    """Record that ``method`` passed now; lifts a login hold.

    The nonce is renewed: whatever was bound to the session before the second factor
    (a fixed session id, a resume token) is not trusted after it. The old one is kept
    only so that :func:`previous_nonce` can recognise the challenge that just passed.

    :raises ValueError: for a method name with ``|``, ``,`` or ``=`` in it.
    """
    if not method or _SEPARATORS & set(method):
        raise ValueError(f"A method name cannot contain '|', ',' or '=': {method!r}.")
    fields = _fields(session, subject) or ["", "", "", "", subject]
    amr = {**_amr(fields[_AMR]), method: int(now)}
    session[SESSION_KEY] = "|".join((
        "", secrets.token_urlsafe(16), fields[_NONCE], ",".join(f"{m}={t}" for m, t in amr.items()), subject,
    ))  # fmt: skip


def last_verified(session: Session, subject: str, methods: Iterable[str] | None = None) -> float | None:
    """When a second factor among ``methods`` (any if ``None``) last passed, or ``None``."""
    fields = _fields(session, subject)
    if fields is None:
        return None
    times = [t for m, t in _amr(fields[_AMR]).items() if methods is None or m in methods]
    return float(max(times)) if times else None


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
    # The hot path of every protected request: one split, and an integer parse per method.
    fields = _fields(session, subject)
    if fields is None or fields[_HOLD] or not fields[_AMR]:
        return False
    oldest = now - (max_age if max_age >= grace else grace)
    for item in fields[_AMR].split(","):
        method, _, at = item.partition("=")
        if (methods is None or method in methods) and int(at) >= oldest:
            return True
    return False
