"""Issuing a challenge: make it, check its method's lock, charge its limits and store it
in one atomic step, then send its code.

Every challenge starts here (login, step-up, operation, bind, contact), described by one
:class:`ChallengeSpec`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from .._crypto import new_code, new_id
from .._errors import DeliveryError
from .._models import Challenge, written_out
from .._workflows import begin, workflow_code
from ..stores import Item, ManyMutator, Record, Write
from ._charges import Hit, issue_hits
from ._context import Context
from ._due import due_entry
from ._effects import Flow, update_after
from ._ended import ENDED, ended_key, ended_refused
from ._keys import failure_key, legacy_failure_key
from ._limits import charging, refuse, withdraw
from ._open import track_open
from ._pending import Guard
from ._records import public
from ._sending import code_length, deliver, target_send_hits
from ._steps import workflow_steps

__all__ = ["ChallengeSpec", "issue"]


@dataclasses.dataclass(frozen=True, slots=True)
class ChallengeSpec:
    """What a new challenge is for.

    :ivar method: the method's name.
    :ivar purpose: ``login``, ``step_up``, ``operation``, ``bind`` or ``contact``.
    :ivar target: where its code goes (a number, an address) or the binding's id.
    :ivar pending: for ``bind``: what waits in the challenge until its code passes.
    :ivar operation: for ``operation``: what is approved, in words (it is in the message).
    :ivar operation_digest: what the approval is bound to.
    :ivar request: the saved request to replay once after approval.
    :ivar session: the caller's session nonce; only it may verify.
    :ivar app: the app asking, for policy.
    :ivar route: the route asking, for policy.
    :ivar client: the client's address: charged for every challenge it starts.
    :ivar fallback: the subject's email address, where an SMS that fails goes instead.
    :ivar accepted: the methods the route accepts (``None``: any).
    :ivar locale: the language of its messages (``None``: ``default_locale``).
    """

    subject: str | None
    method: str
    purpose: str
    target: str
    pending: dict[str, Any] | None = None
    operation: str | None = None
    operation_digest: str | None = None
    request: dict[str, Any] | None = None
    session: str | None = None
    app: str | None = None
    route: str | None = None
    client: str | None = None
    fallback: str | None = None
    accepted: list[str] | None = None
    locale: str | None = None

    def but(self, **changes: Any) -> ChallengeSpec:
        """A copy with ``changes``: :func:`dataclasses.replace` without its checks and
        its call of ``__init__`` (a start makes two copies).

        :raises TypeError: for a name that is not a field.
        """
        raise NotImplementedError  # replaced below, written out field by field


_but = written_out(ChallengeSpec)["evolve"]
_but.__doc__, _but.__qualname__ = ChallengeSpec.but.__doc__, "ChallengeSpec.but"
ChallengeSpec.but = _but  # type: ignore[method-assign]


def _new_challenge(ctx: Context, spec: ChallengeSpec, code: str, challenge_id: str) -> Challenge:
    s, now, sent = ctx.settings, ctx.clock(), bool(code)
    return Challenge(
        id=challenge_id,
        subject=spec.subject,
        method=spec.method,
        target=spec.target,
        purpose=spec.purpose,  # type: ignore[arg-type]
        created_at=now,
        expires_at=now + min(s.code_ttl, s.challenge_lifetime),
        attempts_left=s.max_attempts,
        sends_left=s.max_sends - 1 if sent else 0,
        code_digest=ctx.keys.digest(challenge_id, code) if sent else None,
        last_sent_at=now if sent else None,
        operation=spec.operation,
        operation_digest=spec.operation_digest,
        request=spec.request,
        session=ctx.session_digest(spec.session),
        pending=spec.pending,
        app=spec.app,
        route=spec.route,
        fallback=spec.fallback,
        accepts=spec.accepted,
        locale=spec.locale,
        login_key=ended_key(ctx, spec.session) if spec.session is not None else None,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Made:
    """A challenge made, with its code and what issuing it charges."""

    challenge: Challenge
    code: str
    hits: list[Hit]
    channel: str | None


def _make(ctx: Context, spec: ChallengeSpec, now: float) -> tuple[_Made, list[Write], ManyMutator[Any]]:
    """The challenge of ``spec`` with a new code, and the records and step (pure) that
    check its method's lock, charge its limits and store it."""
    method = ctx.method(spec.method)
    s = ctx.settings
    steps = workflow_steps(ctx, spec.purpose, spec.app, method.channel)
    # A workflow's code is made from a seed with the app's key, so each step sends it again.
    challenge_id, seed = new_id(), new_id() if steps else None
    length = code_length(ctx, method.channel or "", spec.purpose)
    code = workflow_code(ctx.keys, challenge_id, seed, length)[0] if seed else new_code(length)
    code = code if method.channel else ""
    challenge = _new_challenge(ctx, spec.but(method=method.name), code, challenge_id)
    if seed is not None:
        challenge = begin(challenge, steps, seed, code_ttl=s.code_ttl, lifetime=s.challenge_lifetime)
    sends = target_send_hits(ctx, method.name, spec.target, spec.purpose) if method.channel else []
    hits = issue_hits(
        subject=spec.subject, client=spec.client, purpose=spec.purpose, channel=method.channel,
        target=spec.target, send_hits=sends, session=challenge.session,
    )  # fmt: skip
    # A new challenge is refused only for a method locked outright (under its key or
    # the one before keys were named by kind): the back-off gates the codes, so a user
    # who just used up a challenge can ask for a new one at once.
    locks = tuple(key(method.name, spec.subject, spec.target) for key in (failure_key, legacy_failure_key))
    ttl = s.challenge_lifetime + s.challenge_retention
    items, step = charging(ctx, hits, challenge, create=ttl, locks=locks, now=now)
    # The subject's index of open challenges (the support console's) in the same step.
    opened, add = track_open(ctx, challenge)
    # A workflow's next step goes into the due index in the same step (none without one).
    due, enter = due_entry(ctx, challenge)
    k, o = len(items), len(opened)

    def stored(records: list[Record | None]) -> tuple[list[Record | None], Any]:
        new, error = step(records[:k])
        if error is not None:
            return new + records[k:], error
        return new + [add(r) for r in records[k : k + o]] + [enter(r) for r in records[k + o :]], error

    return _Made(challenge, code, hits, method.channel), items + opened + due, stored


def issue(
    ctx: Context,
    spec: ChallengeSpec,
    reads: Sequence[Item] = (),
    aim: Callable[[ChallengeSpec, list[Record | None]], ChallengeSpec] | None = None,
    guard: Guard | None = None,
) -> Flow[Challenge]:
    """Make a challenge, check its method's lock, charge its limits and store it in one
    step, and send its code.

    :param reads: records ``aim`` makes the final spec from (the subject's binding), read
        in the same step, with the login's end: one round trip on the Redis store.
    :param guard: a check made from ``reads`` in the step that stores the challenge,
        before anything is charged (one pending contact request a target:
        :mod:`stepup.engine._pending`).
    :returns: the challenge as the caller may see it (no digest, no pending secret).
    :raises RateLimited: a limit is full; nothing is stored.
    :raises MethodLocked: the method is locked outright.
    :raises LoginEnded: the session's login was ended by a logout.
    :raises RequestPending: ``guard`` refused it; nothing is stored.
    :raises DeliveryError: no route took the code; the challenge is removed.
    """
    now, n = ctx.clock(), len(reads)
    # A logout ends the login's new challenges too: its end is read in the same step.
    ending = [(ENDED, ended_key(ctx, spec.session))] if spec.session is not None else []

    def after(records: list[Record | None]) -> tuple[list[Write], ManyMutator[tuple[Any, _Made]]]:
        made, items, step = _make(ctx, aim(spec, records[:n]) if aim is not None else spec, now)
        ended_refused(records[n] if ending else None)
        held, hold = guard(records[:n], made.challenge) if guard is not None else ([], None)
        k = len(items)

        def charged(records: list[Record | None]) -> tuple[list[Record | None], tuple[Any, _Made]]:
            claimed, error = hold(records[k:]) if hold is not None else (records[k:], None)
            if error is not None:  # refused before anything is charged
                return records, (error, made)
            new, error = step(records[:k])
            return new + (claimed if error is None else records[k:]), (error, made)

        return items + held, charged

    error, made = yield from update_after(ctx, [*reads, *ending], after)
    challenge = made.challenge
    refuse(ctx, error, challenge)
    ctx.emit("issued", challenge)
    if made.channel:
        try:
            challenge = yield from deliver(ctx, challenge, made.code)
        except DeliveryError:
            # The challenge never existed; its sends stay charged (stepup.engine._delivery).
            yield from withdraw(ctx, challenge, made.hits, now)
            raise
    return public(challenge)
