"""Pending challenges nobody can use any more: their login was ended by a logout, or
another challenge of the same session passed for the same purpose (a login or a step-up
passed is not passed again, an operation approved is not approved again). Such a
challenge is cancelled, audited ``cancelled`` with ``detail["reason"]``, and dropped from
the due index: its code stops working and no step
of its workflow fires, since each one is a text or a call someone pays for and nobody
waits for it.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import _machine
from .._errors import StoreUnavailable
from .._models import Challenge
from ..stores import Record
from ._context import Context
from ._due import schedule, shard_of, unschedule
from ._effects import CHALLENGE, Flow, get, update
from ._ended import ENDED
from ._open import forget_open, superseded_ids

__all__ = ["end_moot", "end_superseded", "login_ended"]

logger = logging.getLogger("stepup.engine")


def login_ended(ctx: Context, challenge: Challenge) -> Flow[bool]:
    """Whether a logout ended the login ``challenge`` was started in (one store read;
    ``False`` for a challenge started without a session)."""
    if challenge.login_key is None:
        return False
    return (yield from get(ctx, ENDED, challenge.login_key)) is not None


def end_moot(ctx: Context, challenge_id: str, reason: str) -> Flow[None]:
    """Cancel a pending challenge nobody can use (``reason``: ``login_ended`` or
    ``superseded``) and take it out of the due index; one that ended meanwhile stays as
    it ended."""
    now = ctx.clock()

    def cancel(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, _machine.Outcome | None]:
        if record is None:
            return None, None
        outcome = _machine.cancel(Challenge.from_record(record), now)
        return (outcome.challenge.to_record() if outcome.changed and outcome.challenge else record), outcome

    outcome = yield from update(ctx, CHALLENGE, challenge_id, cancel)
    if outcome is None or outcome.challenge is None:
        yield from unschedule(ctx, shard_of(challenge_id), challenge_id)
    elif outcome.changed:  # cancelled now, or found expired
        detail = {"reason": reason} if outcome.verdict == "cancelled" else {}
        ctx.emit(outcome.verdict, outcome.challenge, detail=detail)
        yield from schedule(ctx, outcome.challenge)  # no next step any more: its entry goes
    # One that had ended already left the index, or a worker drops its entry on sight.


def end_superseded(ctx: Context, passed: Challenge, index: Record | None, *, forgotten: bool = False) -> Flow[None]:
    """Cancel the subject's other pending challenges of ``passed``'s purpose started in
    the same session, once a login or step-up challenge passed: the subject's index of
    open challenges (``index``, read in the step that checked the code) names them, so a
    challenge with none costs no store call. ``forgotten``: the step that approved
    ``passed`` took it out of the index already (:func:`stepup.engine._open.passed_out`).

    Each leaves the index only once it is cancelled, so a cancel that fails (the store
    went away, or the request was cut off) leaves it where the support console lists and
    ends it, and where the session's next pass finds it again. The approval stands
    whatever happens here (a failure is logged).
    """
    cancelled: list[str] = []
    try:
        others = superseded_ids(ctx, index, passed)
        for other in others:
            yield from end_moot(ctx, other, "superseded")
            cancelled.append(other)
    except StoreUnavailable:
        logger.warning("stepup: the challenges challenge %s made moot could not be cancelled", passed.id)
    gone = [*([] if forgotten else [passed.id]), *cancelled]
    if cancelled and passed.subject is not None:
        try:
            # Out of the index, with the pass itself: each is tried once, not again at
            # every later pass of the session.
            yield from forget_open(ctx, passed.subject, gone)
        except StoreUnavailable:
            logger.warning("stepup: the challenges challenge %s made moot stay listed as open", passed.id)
