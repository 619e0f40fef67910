"""The challenge state machine: pure functions, no I/O, written once for every store.

::

    pending ──right code──▶ approved ──consume──▶ (consumed)
       │ ├──wrong code, attempts left──▶ pending (attempts_left - 1)
       │ ├──last wrong code──▶ exhausted
       │ ├──time runs out──▶ expired
       │ └──cancel──▶ cancelled
       └──resend──▶ pending (new code, same attempts_left, sends_left - 1)

Each function takes the stored challenge and returns the challenge to store plus an
outcome; stores run them inside one atomic read-modify-write, so two concurrent calls
never see the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._errors import (
    ApprovalUsed,
    ChallengeClosed,
    ChallengeError,
    ChallengeExhausted,
    ChallengeExpired,
    NoSendsLeft,
    ResendTooSoon,
    StepUpError,
    WrongCode,
)
from ._i18n import T, Tn
from ._models import Challenge

__all__ = [
    "Outcome", "cancel", "closed_error", "consume", "evaluate", "redirect", "refund_send", "reserve_send", "used_error",
]  # fmt: skip

Verdict = Literal["approved", "wrong", "exhausted"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a transition did: the challenge after it, what it means, and an error to raise."""

    challenge: Challenge | None
    verdict: str = ""
    error: StepUpError | None = None
    #: the state changed in this very transition (for audit events fired once).
    changed: bool = False
    #: what the transition released, e.g. the saved request a consume hands over.
    released: dict[str, Any] | None = None


def closed_error(challenge: Challenge, now: float) -> ChallengeError | None:
    """The error for a challenge that no longer takes codes, or ``None`` if it does.

    :param challenge: the stored challenge.
    :param now: the current time.
    """
    if challenge.state == "pending" and now >= challenge.expires_at:
        return ChallengeExpired(T("This code has expired. Ask for a new one."))
    if challenge.state == "pending":
        return None
    if challenge.state == "expired":
        return ChallengeExpired(T("This code has expired. Ask for a new one."))
    if challenge.state == "exhausted":
        return ChallengeExhausted(T("Too many wrong codes: this code no longer works. Ask for a new one."))
    if challenge.state == "cancelled":
        return ChallengeClosed(T("This verification was cancelled. Start again."))
    if challenge.consumed:
        return used_error(challenge)
    return ChallengeClosed(T("This code was already used. Codes work once."))


def used_error(challenge: Challenge) -> ApprovalUsed:
    """The error for an operation approval presented again after it was used.

    Using it and running the operation are two steps: the process may have died between
    them. So the user is told to check what happened, not that the code stopped working.

    :param challenge: the stored challenge, used already.
    """
    if challenge.operation:
        return ApprovalUsed(
            T(
                "This approval was already used. Check whether the {operation} went through before you try again.",
                operation=challenge.operation,
            )
        )
    return ApprovalUsed(
        T("This approval was already used. Check whether the operation went through before you try again.")
    )


def _expire_if_due(challenge: Challenge, now: float) -> Outcome | None:
    error = closed_error(challenge, now)
    if error is None:
        return None
    if challenge.state == "pending":
        return Outcome(challenge.evolve(state="expired"), "expired", error, True)
    return Outcome(challenge, challenge.state, error)


def evaluate(challenge: Challenge, matched: bool, now: float) -> Outcome:
    """Apply one submitted code.

    :param challenge: the stored challenge.
    :param matched: whether the code was right (decided by the caller, in constant time).
    :param now: the current time.
    """
    ended = _expire_if_due(challenge, now)
    if ended is not None:
        return ended
    if matched:
        approved = challenge.evolve(state="approved", approved_at=now, code_digest=None)
        return Outcome(approved, "approved", changed=True)
    left = challenge.attempts_left - 1
    if left <= 0:
        exhausted = challenge.evolve(state="exhausted", attempts_left=0, code_digest=None)
        return Outcome(
            exhausted,
            "exhausted",
            ChallengeExhausted(T("That code was wrong and no attempts are left. Ask for a new code.")),
            True,
        )
    return Outcome(
        challenge.evolve(attempts_left=left),
        "wrong",
        WrongCode(
            Tn("That code is not right. {n} attempt left.", "That code is not right. {n} attempts left.", left), left
        ),
        True,
    )


def reserve_send(
    challenge: Challenge, code_digest: str, now: float, *, cooldown: float, code_ttl: float,
    lifetime: float,
) -> Outcome:  # fmt: skip
    """Take one send of the challenge for a new code, which replaces the old one.

    The attempts left carry over. The caller sends the message and, if delivery fails,
    gives the send back with :func:`refund_send`.

    :param challenge: the stored challenge.
    :param code_digest: the digest of the new code.
    :param now: the current time.
    :param cooldown: seconds between sends.
    :param code_ttl: seconds the new code is valid.
    :param lifetime: seconds the challenge may live in all.
    """
    ended = _expire_if_due(challenge, now)
    if ended is not None:
        return ended
    if challenge.sends_left <= 0:
        return Outcome(challenge, "", NoSendsLeft(T("No more codes can be sent for this request. Start again.")))
    wait = challenge.resend_in(now, cooldown)
    if wait > 0:
        return Outcome(
            challenge,
            "",
            ResendTooSoon(T("Please wait {seconds} s before asking for another code.", seconds=wait), wait),
        )
    renewed = challenge.evolve(
        code_digest=code_digest,
        sends_left=challenge.sends_left - 1,
        last_sent_at=now,
        # never sooner than it was: a workflow's code is good until its later steps
        expires_at=max(challenge.expires_at, min(challenge.created_at + lifetime, now + code_ttl)),
    )
    return Outcome(renewed, "reserved", changed=True)


def refund_send(challenge: Challenge, before: Challenge, reserved_digest: str) -> Outcome:
    """Give back a send whose delivery failed: the old code works again, nothing is charged.

    Only undoes the reservation if no other transition happened since.

    :param challenge: the stored challenge.
    :param before: the challenge as it was before :func:`reserve_send`.
    :param reserved_digest: the digest the reservation stored.
    """
    if challenge.state != "pending" or challenge.code_digest != reserved_digest:
        return Outcome(challenge)
    restored = challenge.evolve(
        code_digest=before.code_digest,
        sends_left=before.sends_left,
        last_sent_at=before.last_sent_at,
        expires_at=before.expires_at,
        # a fallback taken for the failed send is undone with it
        method=before.method,
        target=before.target,
        fallback=before.fallback,
        fallback_from=before.fallback_from,
        notice=before.notice,
    )
    return Outcome(restored, "refunded", changed=True)


def redirect(challenge: Challenge, method: str, target: str, notice: str, reserved_digest: str) -> Outcome:
    """Send the current code by another bound method: the challenge becomes that method's,
    so a grant records what the user really proved.

    :param challenge: the stored challenge.
    :param method: the method the code goes by now (``email``).
    :param target: its target (the bound address).
    :param notice: what to tell the user.
    :param reserved_digest: the digest of the code being sent; nothing changes if it was
        replaced or the challenge ended meanwhile.
    """
    if challenge.state != "pending" or challenge.code_digest != reserved_digest:
        return Outcome(challenge, "", ChallengeClosed(T("This verification changed meanwhile. Start again.")))
    moved = challenge.evolve(method=method, target=target, fallback=None, fallback_from=challenge.method, notice=notice)
    return Outcome(moved, "redirected", changed=True)


def cancel(challenge: Challenge, now: float) -> Outcome:
    """End a pending challenge at the user's or app's request.

    :param challenge: the stored challenge.
    :param now: the current time.
    """
    ended = _expire_if_due(challenge, now)
    if ended is not None:
        return ended
    return Outcome(challenge.evolve(state="cancelled", code_digest=None), "cancelled", changed=True)


def consume(challenge: Challenge) -> Outcome:
    """Use an approval once: the replayed request or the operation it approved runs once.

    :param challenge: the stored challenge.
    """
    if challenge.state != "approved":
        return Outcome(challenge, "", ChallengeClosed(T("This verification has not been approved.")))
    if challenge.consumed:
        return Outcome(challenge, "", used_error(challenge))
    used = challenge.evolve(consumed=True, request=None)
    return Outcome(used, "consumed", changed=True, released=challenge.request)
