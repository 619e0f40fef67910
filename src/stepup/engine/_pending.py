"""One pending contact verification per number or address, as Vonage Verify runs them: a
second request to a target whose first is still pending is refused with the first one's
id (:class:`~stepup.RequestPending`, Vonage's status 10), so two codes to one number are
never valid side by side.

A small index (kind ``contact_pending``, one record per target, keyed as the target's
limits are) names the newest request. It is read before the request is issued and checked
again in the step that stores the new challenge, with the challenge it names: a request
made meanwhile, or one still pending, refuses the new one before anything is charged. A
request that ended (verified, cancelled, used up, expired) or was never sent (its
challenge removed) lets the next one through without anything being cleared when it ends.

The refusal names the pending request only to the caller who made it: the same session
(its keyed digest is kept with the request and in the index), or the engine called
without a session (the app's own code). Anyone else learns only when to try again: the
id is the capability to check, cancel and call, and a stranger who knows only the
number must not get it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .._errors import RequestPending, StepUpError
from .._i18n import T
from .._models import Challenge
from .._targets import limit_target
from ..stores import Item, ManyMutator, Record, Write
from ._context import Context
from ._effects import CHALLENGE
from ._keys import part

__all__ = ["PENDING", "Guard", "one_pending"]

#: the store kind of the index of pending contact verifications, one record per target.
PENDING = "contact_pending"

#: What :func:`stepup.engine._issue.issue` checks in its step: from the records it read and
#: the new challenge, the records to write and a step (pure) that refuses with an error,
#: or claims the records once the challenge is stored.
Guard = Callable[[list[Record | None], Challenge], tuple[list[Write], ManyMutator[StepUpError | None]]]


def one_pending(ctx: Context, target: str, session: str | None = None) -> tuple[list[Item], Guard]:
    """What a contact request to ``target`` reads and the guard that refuses it while
    another request to the target is pending.

    :param target: the normalized number or address.
    :param session: the caller's session (``None``: the engine's own caller), which gets
        the pending request's id only if the request is its own.
    :returns: the index's record to read with the issue, and the guard of its step.
    """
    key = part(limit_target(target))
    ttl = float(ctx.settings.challenge_lifetime + ctx.settings.challenge_retention)

    def guard(records: list[Record | None], new: Challenge) -> tuple[list[Write], ManyMutator[StepUpError | None]]:
        seen = (records[0] or {}).get("id")
        seen = seen if isinstance(seen, str) else None
        writes: list[Write] = [(PENDING, key, ttl)] + ([(CHALLENGE, seen, None)] if seen else [])

        def claim(records: list[Record | None]) -> tuple[list[Record | None], StepUpError | None]:
            index, *named = records
            current = (index or {}).get("id")
            if isinstance(current, str) and current != seen:  # another request got there first
                owner, expires = (index or {}).get("session"), (index or {}).get("expires")
                return records, _refusal(ctx, current, owner, expires, session)
            if seen is not None and named and named[0] is not None and _pending(named[0], ctx.clock()):
                pending = Challenge.from_record(named[0])
                return records, _refusal(ctx, seen, pending.session, pending.expires_at, session)
            return [{"id": new.id, "session": new.session, "expires": new.expires_at}, *named], None

        return writes, claim

    return [(PENDING, key)], guard


def _pending(record: Record, now: float) -> bool:
    """Whether a stored challenge still waits for its code."""
    challenge = Challenge.from_record(record)
    return challenge.state == "pending" and now < challenge.expires_at


def _refusal(ctx: Context, request_id: str, owner: object, expires: object, session: str | None) -> RequestPending:
    """The refusal of a request to a target with ``request_id`` pending: with its id for
    its own session (``owner``, the digest kept with it) or for the engine's own caller,
    without it for anyone else; ``retry_after`` until it ends (``expires``, the lifetime
    when an index written before it kept none)."""
    now = ctx.clock()
    end = expires if isinstance(expires, (int, float)) else now + ctx.settings.challenge_lifetime
    retry_after = max(1, math.ceil(end - now))
    if session is None or ctx.same_session(owner if isinstance(owner, str) else None, session):
        return RequestPending(request_id, retry_after)
    busy = T("A verification of this number or address is already in progress. Try again when it ends, in {seconds} s.",
             seconds=retry_after)  # fmt: skip
    return RequestPending(None, retry_after, message=busy)
