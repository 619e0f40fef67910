"""Pending challenges nobody can use any more: their login was ended by a logout, or
another challenge of the same session passed for the same purpose (a login or a step-up
passed is not passed again). Such a challenge is cancelled, audited ``cancelled`` with
``detail["reason"]``, and dropped from the due index: its code stops working and no step
of its workflow fires, since each one is a text or a call someone pays for and nobody
waits for it.
"""

from __future__ import annotations

import logging

from .. import _machine
from .._errors import StoreUnavailable
from .._models import Challenge
from ._context import Context
from ._due import schedule
from ._effects import Flow, get
from ._ended import ENDED
from ._open import pending_challenges
from ._records import transition

__all__ = ["end_moot", "end_superseded", "login_ended"]

logger = logging.getLogger("stepup.engine")

#: the purposes whose pass makes the session's other pending challenges of it moot: an
#: operation's approval approves its own operation alone, so the others stay.
_SUPERSEDED = frozenset({"login", "step_up"})


def login_ended(ctx: Context, challenge: Challenge) -> Flow[bool]:
    """Whether a logout ended the login ``challenge`` was started in (one store read;
    ``False`` for a challenge started without a session)."""
    if challenge.login_key is None:
        return False
    return (yield from get(ctx, ENDED, challenge.login_key)) is not None


def end_moot(ctx: Context, challenge: Challenge, reason: str) -> Flow[None]:
    """Cancel a pending challenge nobody can use (``reason``: ``login_ended`` or
    ``superseded``) and take it out of the due index; one that ended meanwhile stays as
    it ended."""
    outcome = yield from transition(ctx, challenge, _machine.cancel, ctx.clock())
    after = outcome.challenge or challenge.evolve(state="cancelled")
    if outcome.changed:
        ctx.emit(outcome.verdict, after, detail={"reason": reason} if outcome.verdict == "cancelled" else {})
    yield from schedule(ctx, after)  # no next step any more: its entry goes


def end_superseded(ctx: Context, passed: Challenge, session: str | None) -> Flow[None]:
    """Cancel the subject's other pending challenges of ``passed``'s purpose started in
    the same session (found through the subject's index of open challenges), once a
    login or step-up challenge passed.

    The approval stands whatever happens here: a store that fails meanwhile leaves the
    others as they are (logged), each of them ending at its expiry as before.

    :param session: the session the challenge passed in (``None``: none is cancelled).
    """
    if passed.purpose not in _SUPERSEDED or passed.subject is None or session is None:
        return
    try:
        for other in (yield from pending_challenges(ctx, passed.subject)):
            if other.id != passed.id and other.purpose == passed.purpose and other.session is not None:
                if ctx.same_session(other.session, session):
                    yield from end_moot(ctx, other, "superseded")
    except StoreUnavailable:
        logger.warning("stepup: the challenges challenge %s made moot could not be cancelled", passed.id)
