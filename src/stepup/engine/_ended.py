"""Ended logins: what a logout leaves in the store, so that nothing of the login it ended
(a pending challenge, an unused approval, a saved request) works for a copy of its session.

A session's grants ride in the session itself and are checked without I/O, so a copy of a
client-side session cookie taken before the logout keeps them until they age out
(docs/SECURITY.md). Everything else of a login goes through the store anyway: a logout
records the login's nonce as ended there (a keyed digest of it, for as long as anything
bound to the login can live), and every flow that reads or writes the store for a session
refuses an ended login with :class:`LoginEnded`: starting a challenge, verifying, resending
or cancelling one, using an approval, saving or resuming a request.
"""

from __future__ import annotations

from .._errors import LoginEnded
from .._i18n import T
from ..grants import login_of
from ._context import Context
from ._effects import Flow, get, update

__all__ = ["ENDED", "end_login", "ended_key", "ended_refused", "refuse_ended"]

#: the store kind of ended logins, one record per login.
ENDED = "ended"


def ended_key(ctx: Context, session: str) -> str:
    """The key of a login's record: a keyed digest of its nonce before any renewal,
    so that ending a login ends every nonce a second factor renewed it to."""
    return ctx.remembered_digest("ended-login", login_of(session))


def _ended_ttl(ctx: Context) -> float:
    """How long an end is kept: as long as a challenge (an approval) or a saved request
    of the login can live."""
    s = ctx.settings
    return float(max(s.challenge_lifetime + s.challenge_retention, s.resume_ttl))


def end_login(ctx: Context, nonce: str) -> Flow[None]:
    """End the login whose session nonce is ``nonce`` (logout): its pending challenges,
    unused approvals and saved requests stop working, for this session and any copy
    of it. Grants recorded in the session itself are not reached (no I/O reads them):
    see docs/SECURITY.md.

    :param nonce: the session's per-login nonce (``grants.session_nonce(session)``).
    :raises StoreUnavailable: the store is down; nothing was recorded.
    """

    def end(record: dict[str, object] | None) -> tuple[dict[str, object], None]:
        return record or {"at": now}, None

    now = ctx.clock()
    # Under every key: a challenge keeps the key its login's record had when it started
    # (``Challenge.login_key``), which a key rotated in since must not make miss the end.
    for key in ctx.keys.digests("ended-login", login_of(nonce)):
        yield from update(ctx, ENDED, key, end, _ended_ttl(ctx))


def refuse_ended(ctx: Context, session: str | None) -> Flow[None]:
    """Raise :class:`LoginEnded` when ``session``'s login was ended (one store read).

    :raises LoginEnded: the login was ended by a logout.
    """
    if session is not None:
        ended_refused((yield from get(ctx, ENDED, ended_key(ctx, session))))


def ended_refused(record: object) -> None:
    """Raise :class:`LoginEnded` for the ended-login record read with another one.

    :raises LoginEnded: the record is there.
    """
    if record is not None:
        raise LoginEnded(T("This sign-in has ended. Sign in again."))
