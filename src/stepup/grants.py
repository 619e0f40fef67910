"""Grants: the authentication log a session carries, checked on every request.

The log lives in the app's session under ``"_stepup"``: who logged in, a per-login nonce,
whether the login still waits for its second factor, and when each method last passed
(like OIDC's ``amr`` and ``auth_time``). Checking it is a dictionary look-up, a few
comparisons and a clock read; nothing here does I/O.

The log is one short string, not a nested dict, because it rides in the session cookie of
every request: session serializers pay for every value and every byte they decode (Flask's
tagged JSON walks each nested value; base64, the signature's HMAC, zlib and JSON go over
each byte), and the log is most of what stepup adds to a request that it lets through.
Its fields, ``|``-separated, the subject last so that it may hold any character::

    2|<nonce>|sms=1700000000,totp=1700000100|alice

The first field is ``h`` while the login is held; after that, how many times a second
factor renewed the nonce (empty for none). The nonce of a login is a random string and,
after its ``n``-th renewal, that string followed by ``.n``: a renewal gives a value that
nothing bound before it matches, and the nonce it replaced follows from it, so the log
keeps one random string rather than two. Times are whole seconds, rounded down, so that a
grant never looks fresher than it is.

A session carries the same log from one request to the next, so a log is parsed once and
its reading kept, by its text, for the requests after (a bounded table): a request finds
its log with one look-up. Only this module reads or writes the log.
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
    "login_of",
    "login_settled",
    "login_subject",
    "previous_nonce",
    "record_factor",
    "satisfies",
    "session_nonce",
]

SESSION_KEY = "_stepup"
Session = MutableMapping[str, Any]

_HELD = "h"
_SEPARATORS = frozenset("|,=")
#: Logs read lately, by their text: a session carries the same log from one request to
#: the next, so most requests find theirs here and parse nothing. Bounded: emptied when full.
_LOGS_MAX = 4096


class _Log:
    """A log as read. Shared by every request that carries the same text: never changed."""

    __slots__ = ("amr", "held", "latest", "nonce", "renewals", "subject")

    def __init__(self, held: bool, nonce: str, renewals: int, amr: tuple[tuple[str, int], ...], subject: str) -> None:
        self.held = held
        self.nonce = nonce
        self.renewals = renewals
        self.amr = amr
        self.latest = max(t for _, t in amr) if amr else None
        self.subject = subject


_LOGS: dict[str, _Log] = {}


def _parse(value: object) -> _Log | None:
    """The log a session value holds, or ``None`` when it is not one this module wrote."""
    if type(value) is not str:
        return None
    fields = value.split("|", 3)
    if len(fields) != 4:
        return None
    state, nonce, amr_field, subject = fields
    if state not in ("", _HELD) and not (state.isascii() and state.isdigit()):
        return None
    amr: dict[str, int] = {}
    for item in amr_field.split(",") if amr_field else ():
        method, _, at = item.partition("=")
        if not (method and at.isascii() and at.isdigit()):
            return None
        amr[method] = int(at)
    log = _Log(state == _HELD, nonce, int(state) if state.isdigit() else 0, tuple(amr.items()), subject)
    if len(_LOGS) >= _LOGS_MAX:
        _LOGS.clear()
    _LOGS[value] = log
    return log


def _log_of(session: Session) -> _Log | None:
    """The session's log as read, or ``None``: one look-up when it was read lately."""
    try:
        return _LOGS[session[SESSION_KEY]]
    except (KeyError, TypeError):  # no log, or one not read lately
        return _parse(session.get(SESSION_KEY))


def _read(session: Session, subject: str | None) -> _Log | None:
    """The session's log, or ``None`` when there is none (or it is of another subject)."""
    log = _log_of(session)
    if log is None or (subject is not None and log.subject != subject):
        return None
    return log


def _nonce(log: _Log, renewals: int) -> str:
    return f"{log.nonce}.{renewals}" if renewals else log.nonce


def begin_login(session: Session, subject: str, *, identity_source: str | None, hold: bool) -> None:
    """Start a fresh log for a new login; earlier grants die with the old login.

    :param session: the app's session.
    :param subject: who logged in.
    :param identity_source: how they logged in (``password``, ``sso``, ...); the policy
        reads it when the login starts, so the log does not carry it.
    :param hold: keep the session half authenticated until a second factor passes.
    """
    session[SESSION_KEY] = "|".join((_HELD if hold else "", secrets.token_urlsafe(16), "", subject))


def end_login(session: Session) -> None:
    """Forget the log (logout): pending challenges and grants of this login end with it."""
    session.pop(SESSION_KEY, None)


def login_subject(session: Session) -> str | None:
    """Whose login the log records, or ``None`` when the session has no log."""
    log = _read(session, None)
    return None if log is None else log.subject


def session_nonce(session: Session, subject: str | None = None) -> str | None:
    """The per-login nonce that challenges and resume tokens are bound to."""
    log = _read(session, subject)
    return None if log is None else _nonce(log, log.renewals)


def login_of(nonce: str) -> str:
    """The login a session nonce belongs to: the nonce before any renewal (``abc.2`` is
    ``abc``), so that ending a login ends every nonce a second factor renewed it to.

    :param nonce: a nonce of :func:`session_nonce`, or any session identifier an app
        passes to the engine (one ending in ``.`` and digits is read as a renewal).
    """
    head, dot, renewals = nonce.rpartition(".")
    return head if dot and renewals.isascii() and renewals.isdigit() else nonce


def previous_nonce(session: Session, subject: str | None = None) -> str | None:
    """The nonce the last second factor replaced: read a challenge with it only to tell a
    user who comes back to a code page that passed (Back, a form sent twice) that it was
    used, never to verify or resume anything."""
    log = _read(session, subject)
    return None if log is None or not log.renewals else _nonce(log, log.renewals - 1)


def is_held(session: Session, subject: str) -> bool:
    """Whether the login of ``subject`` still waits for its second factor (also when the
    session has no log of ``subject``)."""
    log = _read(session, subject)
    return log is None or log.held


def login_settled(session: Session, subject: str | None) -> bool:
    """Whether the login needs no work on this request (the common case): nobody logged
    in and no log, or a log of ``subject`` that is not held.

    :param subject: who is logged in, if anyone.
    """
    # Every request stepup sees runs this: a look-up of the log, one of its reading.
    if subject is None:
        return SESSION_KEY not in session
    log = _log_of(session)
    if log is None:
        return False
    return log.subject == subject and not log.held


def login_begun(session: Session, subject: str | None) -> bool:
    """Whether the session's log is ``subject``'s login, held or not: stepup's own pages
    (and the app's exempt ones) then pass the login hold with nothing to do, and the
    adapters skip it without building a request for it.

    :param subject: who is logged in, if anyone.
    """
    return subject is not None and _read(session, subject) is not None


def record_factor(session: Session, subject: str, method: str, now: float) -> None:
    """Record that ``method`` passed now; lifts a login hold.

    The nonce is renewed: whatever was bound to the session before the second factor
    (a fixed session id, a resume token) is not trusted after it. The one it replaced
    remains known only so that :func:`previous_nonce` can recognise the challenge that
    just passed.

    :raises ValueError: for a method name with ``|``, ``,`` or ``=`` in it.
    """
    if not method or _SEPARATORS & set(method):
        raise ValueError(f"A method name cannot contain '|', ',' or '=': {method!r}.")
    log = _read(session, subject)
    if log is None:
        # No log of this subject: a new random nonce, which replaced nothing.
        state, nonce, amr = "", secrets.token_urlsafe(16), {method: int(now)}
    else:
        state, nonce, amr = str(log.renewals + 1), log.nonce, {**dict(log.amr), method: int(now)}
    session[SESSION_KEY] = "|".join((state, nonce, ",".join(f"{m}={t}" for m, t in amr.items()), subject))


def last_verified(session: Session, subject: str, methods: Iterable[str] | None = None) -> float | None:
    """When a second factor among ``methods`` (any if ``None``) last passed, or ``None``."""
    log = _read(session, subject)
    if log is None:
        return None
    times = [t for m, t in log.amr if methods is None or m in methods]
    return float(max(times)) if times else None


def satisfies(
    session: Session,
    subject: str,
    *,
    max_age: float,
    now: float,
    methods: frozenset[str] | None = None,
    grace: float = 0,
    allowed: frozenset[str] | None = None,
) -> bool:
    """Whether the session holds a grant fresh enough for a route.

    :param max_age: seconds since the last second factor that the route accepts.
    :param now: the current time.
    :param methods: methods the route accepts (``None``: any second factor).
    :param grace: seconds after any step-up in which a route does not ask again.
    :param allowed: methods the policy allows at the route now (``None``: any); a grant
        of a method switched off there counts for nothing.
    """
    # The hot path of every protected request: a look-up of the log and a comparison.
    log = _log_of(session)
    if log is None:
        return False
    if log.subject != subject or log.held or log.latest is None:
        return False
    oldest = now - (max_age if max_age >= grace else grace)
    if methods is None and allowed is None:
        return log.latest >= oldest
    for method, at in log.amr:
        if at >= oldest and (methods is None or method in methods) and (allowed is None or method in allowed):
            return True
    return False
