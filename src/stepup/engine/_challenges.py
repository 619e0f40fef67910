"""A challenge's life after it is issued, and how a subject's starts: start, resend,
cancel, consume (an operation approval, once), and reading it."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from .. import _machine
from .._crypto import new_code
from .._errors import DeliveryError, InvalidInput, MethodNotAvailable, OperationMismatch, RateLimited
from .._i18n import T
from .._models import PURPOSES, Challenge
from ._accepted import accepts, check_accepted
from ._context import Context
from ._effects import POLICY, SUBJECT, Flow
from ._in_force import check_in_force
from ._issue import ChallengeSpec, issue
from ._limits import charge
from ._records import find_binding, load_challenge, public, read_policy, transition
from ._sending import code_length, deliver, target_send_hits
from ._steps import step_code

__all__ = ["cancel", "challenge", "consume", "resend", "start"]


def start(
    ctx: Context,
    subject: str,
    method: str,
    purpose: str = "step_up",
    *,
    binding_id: str | None = None,
    operation: str | None = None,
    operation_data: Any = None,
    request: dict[str, Any] | None = None,
    session: str | None = None,
    app: str | None = None,
    route: str | None = None,
    client: str | None = None,
    methods: Iterable[str] | None = None,
    locale: str | None = None,
) -> Flow[Challenge]:
    """Start a challenge for a subject's bound method and send its code.

    :param subject: the app's user id.
    :param method: ``sms``, ``email``, ``totp``, ``recovery`` or a plug-in's name.
    :param purpose: ``login``, ``step_up`` or ``operation``.
    :param binding_id: which binding when the subject has several of the method.
    :param operation: for ``operation``: what is approved, in words; it is in the message.
    :param operation_data: what the approval is bound to (JSON-able); defaults to ``operation``.
    :param request: the original request to replay once after approval.
    :param session: an identifier of the caller's session (a per-login nonce); only
        the same session may verify.
    :param app: the app (blueprint, mount) asking, for policy.
    :param route: the route asking, for policy.
    :param client: the client's address, for rate limits.
    :param methods: the methods the route accepts (``None``: any): the challenge is of
        one of them and its code falls back only to another of them.
    :raises MethodNotAvailable: unknown, switched off, not bound, or not accepted here.
    :raises RateLimited: a limit is full; ``retry_after`` says when to retry.
    :raises TemporarilyLocked: recent failures; ``locked_until`` says until when.
    :raises MethodLocked: too many failures in a row.
    :raises LoginEnded: the session's login was ended by a logout.
    :raises DeliveryError: the message could not be sent, by any fallback either; no
        challenge is left, and only the send limits are charged
        (:mod:`stepup.engine._delivery`). When a fallback sent it, the challenge says so
        in ``notice`` (and ``fallback_from`` when it went by email instead).
    :raises StoreUnavailable: the store is down.
    """
    if purpose not in PURPOSES - {"bind", "contact"}:
        raise InvalidInput(T("purpose must be login, step_up or operation, not '{purpose}'.", purpose=purpose))
    if purpose == "operation" and not operation:
        raise InvalidInput(T("An operation challenge needs an operation description."))
    accepted = None if methods is None else sorted(set(methods))
    m, approved = ctx.method(method), operation if operation_data is None else operation_data
    if not accepts(accepted, m.name):
        raise MethodNotAvailable(T("{method} is not accepted here. Choose another method.", method=m.name))
    spec = ChallengeSpec(
        subject, method, purpose, "", operation=operation, request=request, session=session,
        app=app, route=route, client=client, accepted=accepted, locale=locale,
        operation_digest=ctx.operation_digest(approved) if purpose == "operation" else None,
    )  # fmt: skip
    # The policy and the subject's bindings are read in the step that charges and stores.
    aim = functools.partial(_for_binding, ctx, binding_id=binding_id)
    return (yield from issue(ctx, spec, [(POLICY, POLICY), (SUBJECT, subject)], aim))


def _for_binding(
    ctx: Context, spec: ChallengeSpec, records: list[dict[str, Any] | None], binding_id: str | None
) -> ChallengeSpec:
    """``spec`` aimed at the subject's binding of its method, with the email fallback of
    an SMS code, once the method is found allowed (pure: ``records`` are the policy and
    the subject).

    :raises MethodNotAvailable: switched off or not bound.
    """
    m, subject = ctx.method(spec.method), spec.subject or ""
    stored, record = records
    allowed = ctx.policy_cache.keep(stored, ctx.clock()).methods(app=spec.app, route=spec.route, subject=subject)
    if m.name not in allowed:
        raise MethodNotAvailable(T("{method} is switched off here. Choose another method.", method=m.name))
    record = record or {"bindings": []}
    binding = find_binding(record, m.name, binding_id)
    if binding is None:
        raise MethodNotAvailable(T("Nothing is bound for {method}. Choose another method or add one.", method=m.name))
    # Only to a method this route accepts, so the grant never says more than was proved.
    fits = "email" in allowed and "email" in ctx.methods and accepts(spec.accepted, "email")
    email = find_binding(record, "email", None) if fits else None
    fallback = email["target"] if email and m.name == "sms" and ctx.settings.fallback_to_email else None
    target = binding["target"] if m.channel else binding["id"]
    # The subject's own language, when they chose one, over the request's.
    locale = record.get("locale") if isinstance(record.get("locale"), str) else spec.locale
    return spec.but(method=m.name, target=target, fallback=fallback, locale=locale)


def resend(
    ctx: Context, challenge_id: str, *, subject: str | None = None, session: str | None = None
) -> Flow[Challenge]:
    """Send a new code for a pending challenge; it replaces the old one and the
    attempts left carry over.

    :raises ResendTooSoon: the cooldown has not passed; ``retry_after`` says how long.
    :raises NoSendsLeft: every send of this challenge is used.
    :raises MethodNotAvailable: its method is switched off where it was started, now.
    :raises RateLimited: too many sends to this target.
    :raises DeliveryError: the send failed; the challenge's send is given back and the
        old code still works (the send limits stay charged: :mod:`stepup.engine._delivery`).
    """
    challenge = yield from load_challenge(ctx, challenge_id, subject, session)
    method = ctx.method(challenge.method)
    if not method.channel:
        raise InvalidInput(T("{method} codes are not sent; there is nothing to resend.", method=method.name))
    check_in_force((yield from read_policy(ctx)), challenge)
    s = ctx.settings
    # A workflow's code stays the same: a resend sends it again.
    code = step_code(ctx, challenge) or new_code(code_length(ctx, method.channel, challenge.purpose))
    digest = ctx.keys.digest(challenge.id, code)
    outcome = yield from transition(
        ctx, challenge, _machine.reserve_send, digest, ctx.clock(),
        cooldown=s.resend_cooldown, code_ttl=s.code_ttl, lifetime=s.challenge_lifetime,
    )  # fmt: skip
    if outcome.error is not None:
        if outcome.changed and outcome.verdict == "expired":
            ctx.emit("expired", outcome.challenge)
        raise outcome.error
    reserved = outcome.challenge or challenge
    try:
        yield from charge(ctx, target_send_hits(ctx, method.name, reserved.target, reserved.purpose), reserved)
        reserved = yield from deliver(ctx, reserved, code)
    except (RateLimited, DeliveryError):
        yield from transition(ctx, challenge, _machine.refund_send, challenge, digest)
        raise
    return public(reserved)


def cancel(ctx: Context, challenge_id: str, *, subject: str | None = None, session: str | None = None) -> Flow[None]:
    """End a pending challenge; its code stops working.

    :raises ChallengeClosed: it had already ended.
    """
    challenge = yield from load_challenge(ctx, challenge_id, subject, session)
    outcome = yield from transition(ctx, challenge, _machine.cancel, ctx.clock())
    if outcome.error is not None:
        raise outcome.error
    ctx.emit("cancelled", outcome.challenge)


def consume(
    ctx: Context,
    challenge_id: str,
    *,
    subject: str | None = None,
    session: str | None = None,
    operation_data: Any = None,
    methods: Iterable[str] | None = None,
) -> Flow[dict[str, Any] | None]:
    """Use an approval once and hand back the saved request to replay, if any.

    Only a challenge started for an operation (purpose ``operation``) approves one,
    and only the operation whose digest it holds: a login or step-up code, verified in
    the same session, approves nothing.

    :param operation_data: the operation about to run; it must be the one approved.
    :param methods: the methods the route running it accepts (``None``: any); the
        method that approved must be one of them, and of those the challenge was
        started for.
    :raises OperationMismatch: the challenge approves no operation, or another one.
    :raises MethodNotAccepted: it was approved by a method the route does not accept,
        or that the policy no longer allows where it was started.
    :raises ApprovalUsed: the approval was used already.
    :raises LoginEnded: the session's login was ended by a logout.
    :raises ChallengeClosed: not approved.
    """
    challenge = yield from load_challenge(ctx, challenge_id, subject, session)
    if challenge.purpose != "operation" or challenge.operation_digest is None:
        raise OperationMismatch(T("This verification approves no operation. Approve this one first."))
    if operation_data is None or not ctx.operation_matches(challenge.operation_digest, operation_data):
        raise OperationMismatch(T("This approval is for a different operation. Approve this one."))
    check_accepted(None if methods is None else frozenset(methods), challenge.method)
    check_accepted(challenge.accepts, challenge.method)
    check_in_force((yield from read_policy(ctx)), challenge, used=True)
    outcome = yield from transition(ctx, challenge, _machine.consume)
    if outcome.error is not None:
        raise outcome.error
    ctx.emit("approval_used", challenge)
    return outcome.released


def challenge(
    ctx: Context, challenge_id: str, *, subject: str | None = None, session: str | None = None
) -> Flow[Challenge]:
    """The challenge as it stands (an expired one shows ``expired``).

    :raises ChallengeNotFound: no such challenge.
    :raises ChallengeForbidden: another subject's or session's challenge.
    """
    found = yield from load_challenge(ctx, challenge_id, subject, session)
    if found.state == "pending" and ctx.clock() >= found.expires_at:
        found = found.evolve(state="expired")
    return public(found)
