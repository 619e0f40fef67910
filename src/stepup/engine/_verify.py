"""Verifying a code: the back-off and lock checked, the code evaluated once, the failure
counted, atomically; a right code approves its challenge once (and binds what a bind
challenge waited with)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from .. import _machine
from .._crypto import ascii_code
from .._errors import ChallengeNotFound, RateLimited, StepUpError
from .._i18n import T
from .._models import Approval, Binding, Challenge
from ..methods import RelyingParty
from ..stores import ManyMutator, Write
from ._bindings import bind_from, mark_used, marked_used
from ._charges import Hit, contact_failure_hits
from ._context import Context
from ._effects import CHALLENGE, FAILURES, SUBJECT, Flow, delete, update, update_after
from ._in_force import check_in_force
from ._keys import part
from ._limits import charge
from ._locks import (
    FAILURES_TTL,
    Claim,
    audit_failure,
    challenge_failure_key,
    claim_attempt,
    lock_error,
    one_more_failure,
    release_attempt,
)
from ._moot import Passing, cancelled_in_step, end_superseded, passing, passing_transition
from ._open import OPEN
from ._passkeys import PASSKEY, passkey_step
from ._passkeys import relying_party as relying_party_of
from ._records import challenge_items, challenge_of, read_policy, transition

__all__ = ["verify"]

_NOT_FOUND = T("No such verification. Start again.")
#: the outcome of a sent code and the failure record it left.
_Sent = tuple[_machine.Outcome, dict[str, Any] | None]
#: what :func:`_open` finds: the challenge, whether it is still open, a sent code's outcome.
_Opened = tuple[Challenge, bool, _Sent | None]


def verify(
    ctx: Context,
    challenge_id: str,
    code: object,
    *,
    subject: str | None = None,
    session: str | None = None,
    client: str | None = None,
    relying_party: RelyingParty | None = None,
) -> Flow[Approval]:
    """Check a code against a challenge.

    A right code approves the challenge once; a wrong one uses an attempt; the last
    wrong one exhausts it. Codes that are not ASCII digits are wrong codes.

    :param challenge_id: from :meth:`start`.
    :param code: what the user typed.
    :param subject: the caller's subject; must own the challenge.
    :param session: the caller's session identifier; must match the one that started it.
    :param client: the client's address, for rate limits.
    :param relying_party: for a passkey challenge, whose ``code`` is the browser's
        credential response (JSON): the rp id and origins of the caller's request; the
        settings' when ``None``.
    :raises ConfigurationError: a passkey's relying party is missing or refused.
    :raises WrongCode: with ``attempts_left``.
    :raises ChallengeExhausted: the last attempt was wrong.
    :raises ChallengeExpired: too late.
    :raises ChallengeClosed: already approved, used or cancelled.
    :raises ChallengeForbidden: another subject's or session's challenge.
    :raises LoginEnded: the session's login was ended by a logout.
    :raises ChallengeNotFound: no such challenge.
    :raises TemporarilyLocked: back-off after failures.
    :raises MethodLocked: too many failures in a row.
    :raises RateLimited: too many verifications from this client.
    :raises MethodNotAvailable: its method is switched off where it was started, now.
    """
    if not ctx.latency_hooks:
        return (yield from _verified(ctx, challenge_id, code, subject, session, client, relying_party))
    # Wall time, not the injected clock: what an operator's latency histogram measures.
    started = time.perf_counter()
    try:
        return (yield from _verified(ctx, challenge_id, code, subject, session, client, relying_party))
    finally:
        for observe in ctx.latency_hooks:
            observe(time.perf_counter() - started)


def _verified(
    ctx: Context,
    challenge_id: str,
    code: object,
    subject: str | None,
    session: str | None,
    client: str | None,
    relying_party: RelyingParty | None,
) -> Flow[Approval]:
    """:func:`verify` itself."""
    challenge, still_open, sent, index, moot = yield from _open(ctx, challenge_id, code, subject, session, client)
    rp = relying_party_of(ctx, relying_party) if challenge.method == PASSKEY else None
    key, counted = challenge_failure_key(challenge), contact_failure_hits(challenge.subject, client)
    claimed: Claim | None = None
    if sent is not None:
        outcome, failures = sent
    else:
        outcome, claimed = yield from _evaluate_claimed(ctx, challenge, code, key, counted, still_open, rp, moot)
        failures = claimed[1]
    after = outcome.challenge or challenge
    # Only the transition that approved approves: a racing call that finds the
    # challenge approved already gets its error (the verdict names the state).
    if outcome.verdict == "approved" and outcome.error is None:
        if claimed is not None:
            yield from delete(ctx, FAILURES, key)
        # A sent code's step marked its binding used already.
        approval = yield from _approval(ctx, after, marked=sent is not None)
        # The session's other pending challenges of its purpose (and operation) are moot
        # now: the step that approved it cancelled them on a store atomic across records
        # (a sent code's, or a held code's or a passkey's transition); elsewhere, here.
        if ctx.store_atomic:
            yield from cancelled_in_step(ctx, moot)
        else:
            yield from end_superseded(ctx, after, index)
        return approval
    if outcome.changed and outcome.verdict in {"wrong", "exhausted"}:
        _audit_wrong(ctx, outcome, after, failures)
    else:
        if claimed is not None:
            yield from release_attempt(ctx, key, *claimed)
        if outcome.changed and outcome.verdict == "expired":
            ctx.emit("expired", after)
    raise outcome.error or ChallengeNotFound(_NOT_FOUND)


def _evaluate_claimed(
    ctx: Context,
    challenge: Challenge,
    code: object,
    key: str,
    counted: list[Hit],
    still_open: bool,
    rp: RelyingParty | None,
    moot: list[_machine.Outcome],
) -> Flow[tuple[_machine.Outcome, Claim]]:
    """Check a code in three steps, for a store not atomic across records, a held code
    (TOTP, recovery) or a passkey: claim a failure first (:func:`claim_attempt`),
    evaluate, and give the claim back when the code was not evaluated after all.

    :param moot: the outcomes of the challenges a pass cancelled in its step, filled in
        (:func:`_evaluate`).
    :returns: the outcome and the claim, for the caller to clear or give back.
    """
    if counted:
        yield from charge(ctx, counted, challenge)  # without an atomic store: every code counts
    claimed = yield from claim_attempt(ctx, key, lock=challenge.subject is not None)
    try:
        outcome = yield from _evaluate(ctx, challenge, code, still_open, rp, moot)
    except StepUpError:
        yield from release_attempt(ctx, key, *claimed)
        raise
    return outcome, claimed


def _audit_wrong(ctx: Context, outcome: _machine.Outcome, after: Challenge, failures: dict[str, Any] | None) -> None:
    """Audit a wrong code: the lock or back-off it started, the failure, the exhaustion."""
    audit_failure(ctx, after, failures)
    ctx.emit("failed", after, detail={"attempts_left": after.attempts_left})
    if outcome.verdict == "exhausted":
        ctx.emit("exhausted", after)


def _open(
    ctx: Context, challenge_id: str, code: object, subject: str | None, session: str | None, client: str | None
) -> Flow[tuple[Challenge, bool, _Sent | None, dict[str, Any] | None, list[_machine.Outcome]]]:
    """The challenge a code is for, once it is found pending and in force, and the client
    charged for the verification; whether it is still open (not expired); for a sent
    code on a store atomic across records, the code's outcome and the failure record it
    left (:func:`_sent_step`); the subject's index of open challenges, which names
    those a pass makes moot (:mod:`stepup.engine._moot`); and those a sent code's pass
    cancelled in its step. One store step: the records read and those written are one
    round trip on the Redis store.

    :raises ChallengeNotFound: no such challenge; the client is charged for the guess.
    :raises RateLimited: too many verifications from this client; nothing else changed.
    """
    policy = yield from read_policy(ctx)
    verifying = [("verifications_per_client", client)] if client is not None else []
    reads = challenge_items(ctx, challenge_id, session)
    indexed = subject is not None and session is not None
    read: list[dict[str, Any] | None] = []
    moot: list[_machine.Outcome] = []

    def after(records: list[dict[str, Any] | None]) -> tuple[list[Write], ManyMutator[_Opened]]:
        read[:] = records
        challenge = challenge_of(ctx, records[: len(reads)], subject, session)
        closed = _machine.closed_error(challenge, ctx.clock())
        if closed is not None and challenge.state != "pending":
            raise closed
        # Before anything is charged: a method switched off since the start takes no code.
        check_in_force(policy, challenge)
        if ctx.method(challenge.method).channel and ctx.store_atomic:
            index = records[len(reads)] if indexed else None
            return _sent_step(ctx, challenge, code, verifying, client, passing(ctx, challenge, index, moot))
        return _charging(ctx, challenge, closed is None, verifying)

    try:
        opened = yield from update_after(ctx, reads + ([(OPEN, part(subject or ""))] if indexed else []), after)
    except ChallengeNotFound:
        # Charged only once found unknown, under a limit of its own: guessing ids
        # never uses up the verifications of a client address others share.
        if client is not None:
            yield from charge(ctx, [("unknown_ids_per_client", client)])
        raise
    challenge, still_open, sent = opened
    error = sent[0].error if sent is not None and sent[0].challenge is None else None
    if isinstance(error, RateLimited) and error.limit == "verifications_per_client":
        ctx.emit("rate_limited", challenge, detail={"limit": error.limit})
    if error is not None:
        raise error
    return (*opened, read[len(reads)] if indexed else None, moot)


def _charging(
    ctx: Context, challenge: Challenge, still_open: bool, hits: list[Hit]
) -> tuple[list[Write], ManyMutator[_Opened]]:
    """The step of :func:`_open` for a code checked in three steps: the verification's charge."""
    limits, now = ctx.limits, ctx.clock()

    def step(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], _Opened]:
        new, refused = limits.charge(hits, records, now)
        if refused is not None:
            return new, (challenge, still_open, (_machine.Outcome(None, "", refused), None))
        return new, (challenge, still_open, None)

    return limits.items(hits), step


def _approval(ctx: Context, approved: Challenge, *, marked: bool = False) -> Flow[Approval]:
    """What a right code hands back, once its binding is stored for a bind challenge."""
    ctx.emit("verified", approved)
    passed = {"login": "login_passed", "step_up": "step_up_passed"}.get(approved.purpose)
    if passed is not None:
        ctx.emit(passed, approved)
    binding: Binding | None = None
    if approved.purpose == "bind":
        binding = yield from bind_from(ctx, approved)
    elif approved.subject is not None and ctx.method(approved.method).channel and not marked:
        # A held code (TOTP, recovery) and a passkey marked their binding in their own step.
        yield from mark_used(ctx, approved)
    return Approval(
        challenge_id=approved.id,
        subject=approved.subject,
        method=approved.method,
        purpose=approved.purpose,
        approved_at=approved.approved_at or ctx.clock(),
        target=approved.target,
        operation_digest=approved.operation_digest,
        has_request=approved.request is not None,
        binding=binding,
    )


def _sent_step(
    ctx: Context, challenge: Challenge, code: object, verifying: list[Hit], client: str | None, on_pass: Passing
) -> tuple[list[Write], ManyMutator[_Opened]]:
    """The step checking a sent code (SMS, email) atomically over the challenge and the
    method's failure record, on a store atomic across records: the verification charged,
    the back-off and the lock checked, the code evaluated and the failure counted (or the
    count cleared and the binding marked used by a right code) together, so codes racing in from many sessions are
    counted one after the other, as :func:`claim_attempt` does in three steps. A right
    code also writes ``on_pass`` in this same step: it cancels the challenges it makes
    moot (:func:`stepup.engine._moot.passing`), so no code of theirs approves the same
    thing in between.

    Its result's outcome has no challenge and the error when nothing was evaluated: a
    full limit of ``verifying`` (nothing charged), of the hits a wrong contact code is
    charged to (refused before the code is evaluated), the back-off or the lock
    (:class:`TemporarilyLocked`, :class:`MethodLocked`), or the challenge gone.
    """
    digits, keys, now, limits = ascii_code(code), ctx.keys, ctx.clock(), ctx.limits
    key, counted = challenge_failure_key(challenge), contact_failure_hits(challenge.subject, client)
    v, k = len(verifying), 2 + len(verifying) + len(counted)
    # The subject's record, for a right code's last-used mark (a bind's binding is new).
    marks = challenge.subject is not None and challenge.purpose != "bind"
    owner = [(SUBJECT, challenge.subject or "", None)] if marks else []
    pass_writes, passed = on_pass

    def step(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], _Opened]:
        new, opened = _sent(records[:k])
        if opened[2] is not None and opened[2][0].verdict == "approved" and opened[2][0].error is None:
            marked = [marked_used(ctx, challenge, records[k], now)] if owner else []
            return [*new, *marked, *passed(records[k + len(owner) :], now)], opened
        return [*new, *records[k:]], opened

    def _sent(records: list[dict[str, Any] | None]) -> tuple[list[dict[str, Any] | None], _Opened]:
        failures, record, *limited = records
        verified, refused = limits.charge(verifying, limited[:v], now)
        if refused is not None:
            return records, (challenge, True, (_machine.Outcome(None, "", refused), failures))
        charged, refused = limits.charge(counted, limited[v:], now)
        error = refused or lock_error(failures, now, backoff=True)
        if record is None or error is not None:
            found = _machine.Outcome(None, "", error or ChallengeNotFound(_NOT_FOUND))
            return [failures, record, *verified, *limited[v:]], (challenge, True, (found, failures))
        ch = Challenge.from_record(record)
        ok = digits is not None and ch.code_digest is not None and keys.matches(ch.code_digest, ch.id, digits)
        outcome = _machine.evaluate(ch, ok, now)
        left, rest = failures, limited[v:]
        if outcome.verdict == "approved" and outcome.error is None:
            left = None
        elif outcome.changed and outcome.verdict in {"wrong", "exhausted"}:
            left = one_more_failure(ctx, failures, now, lock=ch.subject is not None)
            rest = charged
        new = outcome.challenge.to_record() if outcome.changed and outcome.challenge else record
        return [left, new, *verified, *rest], (challenge, True, (outcome, left))

    items = [(FAILURES, key, FAILURES_TTL), (CHALLENGE, challenge.id, None), *limits.items(verifying)]
    return [*items, *limits.items(counted), *owner, *pass_writes], step


def _evaluate(
    ctx: Context,
    challenge: Challenge,
    code: object,
    still_open: bool,
    rp: RelyingParty | None,
    moot: list[_machine.Outcome],
) -> Flow[_machine.Outcome]:
    """Apply one code to the stored challenge, atomically (a held code is not checked,
    nor its TOTP step used, for a challenge no longer open). On a store atomic across
    records, the step that approves it cancels the challenges it makes moot (their
    outcomes noted in ``moot``: :func:`stepup.engine._moot.passing_transition`)."""
    method = ctx.method(challenge.method)
    keys, s = ctx.keys, ctx.settings

    if rp is not None:
        step = yield from passkey_step(ctx, challenge, code, rp, still_open)
    elif method.channel:
        digits = ascii_code(code)

        def step(ch: Challenge, now: float) -> _machine.Outcome:
            ok = digits is not None and ch.code_digest is not None and keys.matches(ch.code_digest, ch.id, digits)
            return _machine.evaluate(ch, ok, now)

    elif challenge.purpose == "bind":
        # A secret being enrolled waits in the challenge; its first code is checked there.
        def step(ch: Challenge, now: float) -> _machine.Outcome:
            data = method.check(ch.pending or {}, str(code), now, s, keys) if isinstance(code, str) else None
            outcome = _machine.evaluate(ch, data is not None, now)
            if data is not None and outcome.challenge is not None and outcome.verdict == "approved":
                return dataclasses.replace(outcome, challenge=outcome.challenge.evolve(pending=data))
            return outcome

    else:
        matched = still_open and (yield from _check_held(ctx, challenge, code))

        def step(ch: Challenge, now: float) -> _machine.Outcome:
            return _machine.evaluate(ch, matched, now)

    if ctx.store_atomic:
        return (yield from passing_transition(ctx, challenge, step, moot))
    return (yield from transition(ctx, challenge, step, ctx.clock()))


def _check_held(ctx: Context, challenge: Challenge, code: object) -> Flow[bool]:
    """Check a TOTP or recovery code against the subject's binding, atomically marking
    it used (the TOTP step, the recovery code, its last use) when it matches."""
    if not isinstance(code, str) or challenge.subject is None:
        return False
    method, keys, s, now = ctx.method(challenge.method), ctx.keys, ctx.settings, ctx.clock()

    def check(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        bindings = (record or {}).get("bindings", [])
        for i, b in enumerate(bindings):
            if b["id"] == challenge.target:
                data = method.check(b, code, now, s, keys)
                if data is None:
                    return record, False
                data = {**data, "last_used": now}  # in this step: no second write of the record
                return {**(record or {}), "bindings": [*bindings[:i], data, *bindings[i + 1 :]]}, True
        return record, False

    return (yield from update(ctx, SUBJECT, challenge.subject, check, None))
