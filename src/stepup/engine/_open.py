"""A subject's open challenges: a small index (kind ``open``, one record per subject, the
newest ``_OPEN_KEPT`` ids) written when each challenge is issued, since the store has no
query by subject. The support console reads it to show and end what is pending."""

from __future__ import annotations

from typing import Any

from .._models import Challenge
from ._context import Context
from ._effects import CHALLENGE, Flow, get, get_many, update
from ._keys import part
from ._records import public

__all__ = ["OPEN", "pending_challenges", "track_open"]

#: the store kind of a subject's index of challenges.
OPEN = "open"
#: challenge ids the index keeps per subject (the newest).
_OPEN_KEPT = 20


def track_open(ctx: Context, challenge: Challenge) -> Flow[None]:
    """Add a new challenge to its subject's index (none for a contact verification)."""
    if challenge.subject is None:
        return
    s = ctx.settings
    entry = {"id": challenge.id, "expires": challenge.expires_at}

    def add(record: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        now = ctx.clock()
        kept = [e for e in (record or {}).get("ids", []) if e["expires"] + s.challenge_retention > now]
        return {"ids": [*kept, entry][-_OPEN_KEPT:]}, None

    yield from update(ctx, OPEN, part(challenge.subject), add, float(s.challenge_lifetime + s.challenge_retention))


def pending_challenges(ctx: Context, subject: str) -> Flow[list[Challenge]]:
    """The subject's challenges still waiting for a code, newest first (no digest, no
    pending secret, no saved request)."""
    index = yield from get(ctx, OPEN, part(subject))
    ids = [e["id"] for e in (index or {}).get("ids", [])]
    records = (yield from get_many(ctx, [(CHALLENGE, i) for i in ids])) if ids else []
    now = ctx.clock()
    found = [Challenge.from_record(r) for r in records if r is not None]
    return [public(c) for c in reversed(found) if c.state == "pending" and now < c.expires_at and c.subject == subject]
