"""Reading and changing the records flows share: the policy, a subject, a challenge.

Every change of a challenge goes through :func:`transition`: one atomic ``store.update``
running a pure function of :mod:`stepup._machine`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _machine
from .._errors import ChallengeForbidden, ChallengeNotFound, StoreUnavailable
from .._i18n import T
from .._models import Challenge
from .._policy import Policy
from ._context import Context
from ._effects import CHALLENGE, POLICY, Flow, get, get_many, subject_record, update
from ._ended import ENDED, ended_key, ended_refused

__all__ = [
    "challenge_items", "challenge_of", "find_binding", "load_challenge",
    "public", "read_policy", "read_subject", "transition", "transitioned",
]  # fmt: skip

_NOT_FOUND = T("No such verification. Start again.")


def read_policy(ctx: Context) -> Flow[Policy]:
    """The policy in force: as last read, or read again once ``policy_refresh`` passed
    (:mod:`stepup.engine._policy_cache`). A store that cannot be read keeps the last one
    read in force: no change can reach the store meanwhile either."""
    cache, now = ctx.policy_cache, ctx.clock()
    policy = cache.current(now)
    if policy is not None:
        return policy
    try:
        stored = yield from get(ctx, POLICY, POLICY)
    except StoreUnavailable:
        if cache.read_at is None:
            raise
        cache.postpone(now)
        return cache.policy
    return cache.keep(stored, now)


def read_subject(ctx: Context, subject: str) -> Flow[dict[str, Any]]:
    """A subject's record: its bindings (none for a subject never seen)."""
    record = yield from subject_record(ctx, subject)
    return record or {"bindings": []}


def load_challenge(ctx: Context, challenge_id: object, subject: str | None, session: str | None) -> Flow[Challenge]:
    """The stored challenge, refused to anyone but its subject and session.

    :raises ChallengeNotFound: no such challenge (or an id that cannot be one).
    :raises ChallengeForbidden: another subject's or session's.
    :raises LoginEnded: the session's login was ended by a logout.
    """
    records = yield from get_many(ctx, challenge_items(ctx, challenge_id, session))
    return challenge_of(ctx, records, subject, session)


def challenge_items(ctx: Context, challenge_id: object, session: str | None) -> list[tuple[str, str]]:
    """What :func:`load_challenge` reads: the challenge, and the login's end in the same
    round trip (a logout ends its challenges).

    :raises ChallengeNotFound: an id that cannot be one.
    """
    if not isinstance(challenge_id, str) or not 16 <= len(challenge_id) <= 64:
        raise ChallengeNotFound(_NOT_FOUND)
    return [(CHALLENGE, challenge_id)] + ([(ENDED, ended_key(ctx, session))] if session is not None else [])


def challenge_of(
    ctx: Context, records: list[dict[str, Any] | None], subject: str | None, session: str | None
) -> Challenge:
    """The challenge in the records of :func:`challenge_items`, checked as :func:`load_challenge` says."""
    record, *ended = records
    if record is None:
        raise ChallengeNotFound(_NOT_FOUND)
    challenge = Challenge.from_record(record)
    # Strict: a subject's challenge is theirs alone, and a contact verification (no
    # subject) is nobody's login or step-up.
    if subject != challenge.subject:
        raise ChallengeForbidden(T("This verification belongs to someone else."))
    if challenge.session is not None and not ctx.same_session(challenge.session, session):
        raise ChallengeForbidden(T("This verification was started in another session."))
    ended_refused(ended[0] if ended else None)
    return challenge


def transition(
    ctx: Context, challenge: Challenge, step: Callable[..., _machine.Outcome], *args: Any, **kwargs: Any
) -> Flow[_machine.Outcome]:
    """Run one pure transition (``step(stored_challenge, *args, **kwargs)``) atomically
    on the stored challenge."""

    def apply(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, _machine.Outcome]:
        return transitioned(record, step, *args, **kwargs)

    return (yield from update(ctx, CHALLENGE, challenge.id, apply, None))


def transitioned(
    record: dict[str, Any] | None, step: Callable[..., _machine.Outcome], *args: Any, **kwargs: Any
) -> tuple[dict[str, Any] | None, _machine.Outcome]:
    """What :func:`transition` makes of the stored challenge ``record`` (pure): the record
    to store and the outcome (:class:`ChallengeNotFound` when there is none)."""
    if record is None:
        return None, _machine.Outcome(None, "", ChallengeNotFound(_NOT_FOUND))
    outcome = step(Challenge.from_record(record), *args, **kwargs)
    new = outcome.challenge.to_record() if outcome.changed and outcome.challenge else record
    return new, outcome


def public(challenge: Challenge) -> Challenge:
    """The challenge without its code digest, pending secret, saved request body,
    fallback address, workflow seed or login key."""
    return challenge.evolve(code_digest=None, pending=None, request=None, fallback=None, seed=None, login_key=None)


def find_binding(record: dict[str, Any], method: str, binding_id: str | None) -> dict[str, Any] | None:
    """A subject's binding of ``method`` (the one with ``binding_id`` if given); a set of
    recovery codes with none left counts as none."""
    for b in record.get("bindings", []):
        if b["method"] == method and (binding_id is None or b["id"] == binding_id):
            if method == "recovery" and not b.get("codes"):
                continue
            return dict(b)
    return None
