"""A subject's open challenges: a small index (kind ``open``, one record per subject, the
newest ``_OPEN_KEPT`` ids) written when each challenge is issued, since the store has no
query by subject. The support console reads it to show and end what is pending."""

from __future__ import annotations

from collections.abc import Callable, Collection

from .._models import Challenge
from ..stores import Record, Write
from ._context import Context
from ._effects import CHALLENGE, Flow, get, get_many, update
from ._keys import part
from ._records import public

__all__ = ["OPEN", "SUPERSEDED", "forget_open", "passed_out", "pending_challenges", "superseded_ids", "track_open"]

#: the store kind of a subject's index of challenges.
OPEN = "open"
#: challenge ids the index keeps per subject (the newest).
_OPEN_KEPT = 20
#: the purposes whose pass makes the session's other pending challenges of it moot: a
#: login's or a step-up's, and an operation's of the same operation (its digest), since an
#: approval approves its own operation alone: another operation's challenge stays.
SUPERSEDED = frozenset({"login", "step_up", "operation"})


def track_open(ctx: Context, challenge: Challenge) -> tuple[list[Write], Callable[[Record | None], Record | None]]:
    """The record of the subject's index a new challenge is added to (none for a contact
    verification), and the change (pure): written in the step that stores the challenge."""
    if challenge.subject is None:
        return [], lambda record: record
    s = ctx.settings
    entry: dict[str, object] = {"id": challenge.id, "expires": challenge.expires_at}
    if challenge.purpose in SUPERSEDED and challenge.session is not None:
        # So that one passing finds the session's others without reading each (_moot).
        entry.update(purpose=challenge.purpose, session=challenge.session)
        if challenge.operation_digest is not None:
            entry["op"] = challenge.operation_digest

    def add(record: Record | None) -> Record:
        now = ctx.clock()
        kept = [e for e in (record or {}).get("ids", []) if e["expires"] + s.challenge_retention > now]
        return {"ids": [*kept, entry][-_OPEN_KEPT:]}

    return [(OPEN, part(challenge.subject), float(s.challenge_lifetime + s.challenge_retention))], add


def pending_challenges(ctx: Context, subject: str) -> Flow[list[Challenge]]:
    """The subject's challenges still waiting for a code, newest first (no digest, no
    pending secret, no saved request)."""
    index = yield from get(ctx, OPEN, part(subject))
    ids = [e["id"] for e in (index or {}).get("ids", [])]
    records = (yield from get_many(ctx, [(CHALLENGE, i) for i in ids])) if ids else []
    now = ctx.clock()
    found = [Challenge.from_record(r) for r in records if r is not None]
    return [public(c) for c in reversed(found) if c.state == "pending" and now < c.expires_at and c.subject == subject]


def superseded_ids(ctx: Context, index: Record | None, passed: Challenge) -> list[str]:
    """The ids in the subject's ``index`` of the other challenges of ``passed``'s purpose
    (and operation) started in its session and not expired (some may have ended: each is
    checked when cancelled)."""
    if passed.purpose not in SUPERSEDED or passed.session is None:
        return []
    now = ctx.clock()
    return [
        e["id"] for e in (index or {}).get("ids", [])
        if e["id"] != passed.id and e.get("purpose") == passed.purpose and e.get("session") == passed.session
        and e.get("op") == passed.operation_digest and e["expires"] > now
    ]  # fmt: skip


def passed_out(
    ctx: Context, index: Record | None, passed: Challenge, cancelled: Collection[str] = ()
) -> tuple[list[Write], Callable[[Record | None], Record | None]]:
    """The record of the subject's ``index`` (as read) that a pass of ``passed`` takes it
    out of, with the challenges ``cancelled`` in the same step, and the change (pure):
    written in the step that approves it, so a later pass in the session does not try
    them again, at no store call of its own. None when the index names none of them. A
    challenge cancelled later leaves the index once it is (:func:`stepup.engine._moot.end_superseded`)."""
    gone = frozenset({passed.id, *cancelled})
    if passed.subject is None or not any(e["id"] in gone for e in (index or {}).get("ids", [])):
        return [], lambda record: record
    # Its expiry kept (ttl None): the last challenge added set it to outlive every entry.
    return [(OPEN, part(passed.subject), None)], lambda record: _without(record, gone)


def forget_open(ctx: Context, subject: str, ids: Collection[str]) -> Flow[None]:
    """Take ``ids`` out of the subject's index (a pass and the challenges it made moot)
    when the step that approved it could not: a later pass in the session does not try
    them again."""
    gone = frozenset(ids)

    def drop(record: Record | None) -> tuple[Record | None, None]:
        return _without(record, gone), None

    ttl = float(ctx.settings.challenge_lifetime + ctx.settings.challenge_retention)
    yield from update(ctx, OPEN, part(subject), drop, ttl)


def _without(record: Record | None, gone: frozenset[str]) -> Record | None:
    """The index ``record`` without the entries of ``gone``."""
    if record is None:
        return None
    return {**record, "ids": [e for e in record.get("ids", []) if e["id"] not in gone]}
