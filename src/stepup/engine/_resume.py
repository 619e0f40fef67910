"""Resume records: the request a step-up interrupted, kept server side until it is
replayed once.

An adapter that stops a request for a second factor saves what it needs to resume it
(method, path, query, content type, body up to ``max_resume_body``, and for operations
what is being approved) and hands the client only a signed token. The record is bound to
the subject and the session, and taking it for the replay is one atomic step, so however
many challenges were started from it, the request runs at most once.

A subject's saved requests live in one record of kind ``resumes``, keyed by the subject:
saving one charges ``limit_resumes_per_login`` (the login's nonce) and
``limit_resumes_per_subject`` and adds it, dropping that login's oldest beyond
``max_resume_records``, in one atomic store step. So a session that posts large bodies
in a loop keeps at most that many bodies in the store, and then gets 429, while the
saved requests of the user's other logins stay. (A held login saves none at all: the
web layer sends it to its second factor.)
"""

from __future__ import annotations

import base64
from typing import Any

from .._crypto import new_id
from .._errors import ChallengeExpired, ChallengeForbidden, InvalidInput, RateLimited
from .._i18n import T
from ._context import Context
from ._effects import Flow, get_many, update, update_many
from ._ended import ENDED, ended_key, ended_refused, refuse_ended

__all__ = ["SavedRequest", "load_resume", "save_resume", "take_resume"]

#: one record per subject, ``{"saved": [entry, ...]}``, oldest first (records of the
#: kind ``resume``, one per request, were written before saved requests were capped).
_RESUMES = "resumes"
_SALT = "stepup.resume"
#: the logins whose saved requests a subject's record keeps, ``max_resume_records`` each.
_LOGINS_KEPT = 4
_GONE = T("This request has expired or was already completed. Start it again.")


class SavedRequest(dict[str, Any]):
    """A request to replay: ``method``, ``path``, ``query``, ``content_type`` and ``body``
    (bytes)."""

    @property
    def body(self) -> bytes:
        """The request body."""
        return base64.b64decode(self.get("body64", ""))


def save_resume(
    ctx: Context,
    subject: str,
    *,
    session: str | None,
    next_url: str,
    request: dict[str, Any] | None = None,
    body: bytes = b"",
    purpose: str = "step_up",
    operation: str | None = None,
    operation_data: Any = None,
    methods: list[str] | None = None,
    app: str | None = None,
    route: str | None = None,
) -> Flow[str]:
    """Keep what is needed to resume an interrupted request; returns a signed token.

    :param subject: who asked.
    :param session: the session's per-login nonce; only it may resume.
    :param next_url: where to go after the second factor (a same-site path).
    :param request: ``method``, ``path``, ``query``, ``content_type`` of a request to
        replay, or ``None`` to resume by redirect.
    :param body: the request body to replay.
    :param purpose: ``login``, ``step_up`` or ``operation``.
    :param operation: what is approved, in words, for the message.
    :param operation_data: what the approval is bound to.
    :param methods: the methods the route accepts (``None``: any).
    :raises InvalidInput: the body is larger than ``max_resume_body`` (413).
    :raises RateLimited: the subject saved too many requests lately; nothing is saved.
    :raises LoginEnded: the session's login was ended by a logout.
    """
    if len(body) > ctx.settings.max_resume_body:
        raise InvalidInput(
            T(
                "The request is too large to resume after verification (at most {kib} KiB).",
                kib=ctx.settings.max_resume_body // 1024,
            )
        )
    yield from refuse_ended(ctx, session)
    resume_id, now = new_id(), ctx.clock()
    entry: dict[str, Any] = {
        "id": resume_id,
        "at": now,
        "sub": subject,
        "ses": ctx.session_digest(session),
        "next": next_url,
        "purpose": purpose,
        "op": operation,
        "opd": None if operation_data is None else operation_data,
        "methods": methods,
        "app": app,
        "route": route,
        "req": None if request is None else {**request, "body64": base64.b64encode(body).decode()},
    }
    yield from _keep(ctx, subject, entry, now)
    return ctx.keys.sign(_SALT, {"i": resume_id, "o": _owner(ctx, subject)})


def _keep(ctx: Context, subject: str, entry: dict[str, Any], now: float) -> Flow[None]:
    """Charge a saved request to its login's and subject's limits and add it to the
    subject's record, dropping that login's oldest beyond ``max_resume_records``, in one
    atomic step.

    :raises RateLimited: a limit is full; nothing is saved.
    """
    login = entry["ses"] or subject
    hits = [("resumes_per_login", login), ("resumes_per_subject", subject)]
    limits, s = ctx.limits, ctx.settings

    def save(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], RateLimited | None]:
        *counted, record = records
        charged, error = limits.charge(hits, counted, now)
        if error is not None:
            return records, error
        live = [*(e for e in (record or {}).get("saved", []) if e["at"] + s.resume_ttl > now), entry]
        # Newest wins within a login: its oldest go, never another login's, and the
        # record keeps the requests of a few logins at most, so it stays bounded.
        mine = [e["id"] for e in live if e["ses"] == entry["ses"]]
        dropped = set(mine[: -s.max_resume_records])
        kept = [e for e in live if e["id"] not in dropped][-s.max_resume_records * _LOGINS_KEPT :]
        return [*charged, {"saved": kept}], None

    items = [*limits.items(hits), (_RESUMES, subject, float(s.resume_ttl))]
    error = yield from update_many(ctx, items, save)
    if error is not None:
        ctx.emit("rate_limited", None, subject=subject, detail={"limit": error.limit})
        raise error


def load_resume(ctx: Context, token: object, *, subject: str | None, session: str | None) -> Flow[dict[str, Any]]:
    """The record behind a resume token.

    :raises ChallengeExpired: forged, tampered, expired or already replayed.
    :raises ChallengeForbidden: another subject's or session's.
    :raises LoginEnded: the session's login was ended by a logout.
    """
    resume_id = _resume_id(ctx, token, subject)
    record = ended = None
    if resume_id is not None and subject is not None:
        # The login's end is read with the record, in one round trip.
        items = [(_RESUMES, subject), *([(ENDED, ended_key(ctx, session))] if session is not None else [])]
        stored, *rest = yield from get_many(ctx, items)
        record, ended = _entry(stored, resume_id), (rest[0] if rest else None)
    _check_resume(ctx, record, subject, session)
    ended_refused(ended)
    return record  # type: ignore[return-value]


def take_resume(ctx: Context, token: object, *, subject: str | None, session: str | None) -> Flow[SavedRequest | None]:
    """Take the saved request for its one replay; later calls get an error.

    :returns: the saved request, or ``None`` for a resume by redirect.
    :raises ChallengeExpired: already taken, or expired.
    :raises ChallengeForbidden: another subject's or session's.
    :raises LoginEnded: the session's login was ended by a logout.
    """
    resume_id = _resume_id(ctx, token, subject)
    if resume_id is None or subject is None:
        raise ChallengeExpired(_GONE)
    yield from refuse_ended(ctx, session)
    wanted, same_session = str(resume_id), ctx.same_session

    def take(stored: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        record = _entry(stored, wanted)
        if stored is None or record is None or record["sub"] != subject or not same_session(record["ses"], session):
            return stored, record
        kept = [e for e in stored["saved"] if e is not record]
        return ({"saved": kept} if kept else None), {**record, "taken": True}

    record = yield from update(ctx, _RESUMES, subject, take, None)
    _check_resume(ctx, record, subject, session)
    if not record or not record.get("taken"):
        raise ChallengeExpired(_GONE)
    return None if record["req"] is None else SavedRequest(record["req"])


def _owner(ctx: Context, subject: str | None) -> str:
    """Whose a resume token is, as a keyed digest (the token is signed, not secret)."""
    return ctx.keys.digest("resume-owner", subject or "")[:22]


def _resume_id(ctx: Context, token: object, subject: str | None) -> str | None:
    """The saved request's id in a resume token, ``None`` for a bad or old token.

    :raises ChallengeForbidden: the token is another subject's.
    """
    value = ctx.keys.unsign(_SALT, token, ctx.settings.resume_ttl)
    if not isinstance(value, dict) or not isinstance(value.get("i"), str):
        return None
    if not ctx.keys.matches(value.get("o"), "resume-owner", subject or "", size=22):
        raise ChallengeForbidden(T("This request belongs to another session. Start it again."))
    return str(value["i"])


def _check_resume(ctx: Context, record: dict[str, Any] | None, subject: str | None, session: str | None) -> None:
    if record is None:
        raise ChallengeExpired(_GONE)
    if record["sub"] != subject or not ctx.same_session(record["ses"], session):
        raise ChallengeForbidden(T("This request belongs to another session. Start it again."))


def _entry(stored: dict[str, Any] | None, resume_id: str) -> dict[str, Any] | None:
    """The saved request ``resume_id`` of a subject's record, if it is still there."""
    return next((e for e in (stored or {}).get("saved", []) if e.get("id") == resume_id), None)
