"""Pending challenges nobody can use any more: their login was ended by a logout, or
another challenge of the same session passed for the same purpose (a login or a step-up
passed is not passed again, an operation approved is not approved again). Such a
challenge is cancelled, audited ``cancelled`` with ``detail["reason"]``, and dropped from
the due index: its code stops working and no step
of its workflow fires, since each one is a text or a call someone pays for and nobody
waits for it.

A challenge that passes on a store atomic across records cancels the others in the very
step that approves it (:func:`passing`), so no code of theirs approves the same thing in
between: a sent code's (SMS, email) in the step that checks it, a held code's (TOTP,
recovery) or a passkey's in the step of its transition (:func:`passing_transition`). On a
store atomic per record only (a Redis Cluster, whose records lie in hash slots of their
own) it cancels them just after (:func:`end_superseded`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import _machine
from .._errors import StoreUnavailable
from .._models import Challenge
from ..stores import ManyMutator, Record, Write
from ._context import Context
from ._due import schedule, shard_of, unschedule
from ._effects import CHALLENGE, Flow, get, update, update_after
from ._ended import ENDED
from ._keys import part
from ._open import OPEN, forget_open, passed_out, superseded_ids
from ._records import transitioned

__all__ = [
    "Passing", "cancelled_in_step", "end_moot", "end_superseded", "login_ended", "passing", "passing_transition",
]  # fmt: skip

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
    outcome = yield from update(ctx, CHALLENGE, challenge_id, lambda record: _cancel(record, now))
    yield from _after_cancel(ctx, challenge_id, outcome, reason)


def _after_cancel(ctx: Context, challenge_id: str, outcome: _machine.Outcome | None, reason: str) -> Flow[None]:
    """What follows a cancel: its audit event, and its entry out of the due index."""
    if outcome is None or outcome.challenge is None:
        yield from unschedule(ctx, shard_of(challenge_id), challenge_id)
    elif outcome.changed:  # cancelled now, or found expired
        detail = {"reason": reason} if outcome.verdict == "cancelled" else {}
        ctx.emit(outcome.verdict, outcome.challenge, detail=detail)
        yield from schedule(ctx, outcome.challenge)  # no next step any more: its entry goes
    # One that had ended already left the index, or a worker drops its entry on sight.


def cancelled_in_step(ctx: Context, outcomes: list[_machine.Outcome]) -> Flow[None]:
    """The audit events and due entries of the challenges a pass cancelled in the step
    that approved it (:func:`stepup.engine._verify._sent_step`, :func:`passing_transition`).
    Best effort, as :func:`end_superseded`: they are cancelled whatever happens here."""
    try:
        for outcome in outcomes:
            if outcome.challenge is not None:
                yield from _after_cancel(ctx, outcome.challenge.id, outcome, "superseded")
    except StoreUnavailable:
        logger.warning("stepup: the due entries of cancelled challenges stay until their time")


def end_superseded(ctx: Context, passed: Challenge, index: Record | None) -> Flow[None]:
    """Cancel the subject's other pending challenges of ``passed``'s purpose started in
    the same session, once a challenge passed on a store not atomic across records (on
    one that is, a pass cancels them in its own step: :func:`passing`): the subject's
    index of open challenges (``index``, read in the step that checked the code) names
    them, so a challenge with none costs no store call.

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
    gone = [passed.id, *cancelled]
    if cancelled and passed.subject is not None:
        try:
            # Out of the index, with the pass itself: each is tried once, not again at
            # every later pass of the session.
            yield from forget_open(ctx, passed.subject, gone)
        except StoreUnavailable:
            logger.warning("stepup: the challenges challenge %s made moot stay listed as open", passed.id)


#: what a right code's step writes beside its own records (:func:`passing`): the records,
#: and what it makes of them (given them as read, and the time).
Passing = tuple[list[Write], Callable[[list[Record | None], float], list[Record | None]]]


def passing(ctx: Context, challenge: Challenge, index: Record | None, moot: list[_machine.Outcome]) -> Passing:
    """What a right code's step writes beside the code's own records: the challenges it
    makes moot (:func:`superseded_ids`), cancelled (their outcomes noted in ``moot``), and
    the subject's ``index`` without them and itself (:func:`passed_out`)."""
    others = superseded_ids(ctx, index, challenge)
    listed, drop = passed_out(ctx, index, challenge, others)

    def passed(records: list[dict[str, Any] | None], now: float) -> list[dict[str, Any] | None]:
        moot.clear()  # the step may run again (a store that confirms what it read)
        n = len(others)
        return [*(_cancelled(r, now, moot) for r in records[:n]), *(drop(r) for r in records[n:])]

    return [*((CHALLENGE, other, None) for other in others), *listed], passed


def passing_transition(
    ctx: Context,
    challenge: Challenge,
    step: Callable[[Challenge, float], _machine.Outcome],
    moot: list[_machine.Outcome],
) -> Flow[_machine.Outcome]:
    """A held code's (TOTP, recovery) or a passkey's transition of ``challenge``
    (``step``), on a store atomic across records: the step that approves it also writes
    what its pass does (:func:`passing`: the challenges it makes moot cancelled, their
    outcomes noted in ``moot``, and the subject's index without them and itself), so no
    code of theirs approves the same thing in between. On a store with an ``update_after``
    of its own (the built-in ones) the index is read in this same step, so a challenge
    started meanwhile is not missed; elsewhere it is read just before (a read, then the
    ``update_many``). One store step: one round trip on the Redis store, as the transition
    alone was.

    The index is read only for a challenge started in a session, whose verify read it
    already (so the Redis store remembers it): without a session, nothing is moot.
    """
    now = ctx.clock()
    indexed = challenge.subject is not None and challenge.session is not None
    reads = [(CHALLENGE, challenge.id)] + ([(OPEN, part(challenge.subject or ""))] if indexed else [])

    def after(read: list[Record | None]) -> tuple[list[Write], ManyMutator[_machine.Outcome]]:
        writes, passed = passing(ctx, challenge, read[1] if indexed else None, moot)

        def apply(records: list[Record | None]) -> tuple[list[Record | None], _machine.Outcome]:
            new, outcome = transitioned(records[0], step, now)
            if outcome.verdict == "approved" and outcome.error is None:
                return [new, *passed(records[1:], now)], outcome
            return [new, *records[1:]], outcome

        return [(CHALLENGE, challenge.id, None), *writes], apply

    return (yield from update_after(ctx, reads, after))


def _cancelled(record: dict[str, Any] | None, now: float, moot: list[_machine.Outcome]) -> dict[str, Any] | None:
    """:func:`_cancel` in a pass's step, its outcome noted in ``moot``."""
    new, outcome = _cancel(record, now)
    if outcome is not None:
        moot.append(outcome)
    return new


def _cancel(record: dict[str, Any] | None, now: float) -> tuple[dict[str, Any] | None, _machine.Outcome | None]:
    """A stored challenge cancelled (as it was, when it had ended already), and the outcome."""
    if record is None:
        return None, None
    outcome = _machine.cancel(Challenge.from_record(record), now)
    return (outcome.challenge.to_record() if outcome.changed and outcome.challenge else record), outcome
