"""Failure locks and back-off: wrong codes counted per method, the back-off and the lock
they start, and lifting them.

A method's failures live in one record (kind ``failures``) per subject, or per target for
contact verification (:mod:`stepup.engine._keys`). A success deletes it.
"""

from __future__ import annotations

from typing import Any

from .._errors import MethodLocked, MethodNotAvailable, StepUpError, TemporarilyLocked
from .._i18n import T
from .._models import Challenge
from ._context import Context
from ._effects import FAILURES, Flow, delete, update
from ._keys import failure_key, legacy_failure_key

__all__ = [
    "FAILURES_TTL", "audit_failure", "challenge_failure_key", "claim_attempt", "lock_error",
    "one_more_failure", "release_attempt", "unlock", "unlock_target",
]  # fmt: skip

#: seconds a failure record is kept: long enough to count "in a row"; a success deletes it.
FAILURES_TTL = 30 * 86400

#: a failure record before and after a claim.
Claim = tuple[dict[str, Any] | None, dict[str, Any]]


def challenge_failure_key(challenge: Challenge) -> str:
    """The failure record a challenge's wrong codes count in."""
    return failure_key(challenge.method, challenge.subject, challenge.target)


def lock_error(record: dict[str, Any] | None, now: float, *, backoff: bool) -> StepUpError | None:
    """Why a method's failure record refuses codes now (locked, or in its back-off), if it does."""
    if not record:
        return None
    if record.get("locked"):
        return MethodLocked(
            T("This method is locked after too many wrong codes. Use another method or ask an administrator.")
        )
    locked_until = float(record.get("until", 0))
    if backoff and locked_until > now:
        wait = max(1, int(locked_until - now + 0.999))
        return TemporarilyLocked(
            T("Too many wrong codes. Try again in {seconds} s.", seconds=wait),
            retry_after=wait,
            locked_until=locked_until,
        )
    return None


def one_more_failure(ctx: Context, record: dict[str, Any] | None, now: float, *, lock: bool = True) -> dict[str, Any]:
    """A method's failure record with one more wrong code counted.

    :param lock: whether enough failures lock it outright; a contact target's do not,
        since anyone may send its codes: it backs off only.
    """
    s = ctx.settings
    count = int((record or {}).get("count", 0)) + 1
    new: dict[str, Any] = {"count": count, "locked": lock and count >= s.lockout_after}
    if count >= s.backoff_after:
        new["until"] = now + min(s.backoff_max, s.backoff_base * 2 ** (count - s.backoff_after))
    return new


def claim_attempt(ctx: Context, key: str, *, lock: bool = True) -> Flow[Claim]:
    """Count a code as a failure before it is evaluated, refusing it in a back-off or a
    lock, in one atomic step. A right code then clears the count; a code that was not
    evaluated after all (its challenge ended meanwhile) gives its claim back.

    Counting first is what makes the back-off and the lock hold under concurrency:
    checking them, then counting the failure after the evaluation, let any number of
    codes racing in over many sessions through the check before the first failure
    was written.

    :returns: the failure record before and after the claim.
    :raises TemporarilyLocked: in the back-off after failures.
    :raises MethodLocked: after too many failures in a row.
    """
    now = ctx.clock()

    def claim(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Any]:
        error = lock_error(record, now, backoff=True)
        if error is not None:
            return record, (record, None, error)
        new = one_more_failure(ctx, record, now, lock=lock)
        return new, (record, new, None)

    before, after, error = yield from update(ctx, FAILURES, key, claim, FAILURES_TTL)
    if error is not None:
        raise error
    return before, after


def release_attempt(ctx: Context, key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> Flow[None]:
    """Give back the claim of a code that was not evaluated after all."""

    def release(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        if record == after:
            return before, None  # nothing since: as if never claimed
        if record and int(record.get("count", 0)) > 0:
            return {**record, "count": int(record["count"]) - 1}, None
        return record, None

    yield from update(ctx, FAILURES, key, release, None)


def audit_failure(ctx: Context, challenge: Challenge, state: dict[str, Any] | None) -> None:
    """Audit the lock or back-off a wrong code's claim started, if it started one.

    :param state: the failure record the wrong code left; the atomic path types it
        optional, as an approving code leaves none.
    """
    if state is None:
        return
    if state["locked"] and state["count"] == ctx.settings.lockout_after:
        ctx.emit("locked", challenge, detail={"failures": state["count"]})
    elif "until" in state:
        ctx.emit("locked", challenge, detail={"failures": state["count"], "until": state["until"]})


def unlock(ctx: Context, subject: str, method: str | None = None) -> Flow[None]:
    """Lift the failure back-off and lock of one method, or of all."""
    for name in [method] if method else sorted(ctx.methods):
        for key in (failure_key(name, subject, ""), legacy_failure_key(name, subject, "")):
            yield from delete(ctx, FAILURES, key)
    ctx.emit("unlocked", None, subject=subject, method=method)


def unlock_target(ctx: Context, channel: str, target: object) -> Flow[str]:
    """Lift the back-off (or a lock from before an upgrade) of a phone number's or an
    email address's contact verification.

    :param channel: ``sms`` or ``email``.
    :param target: the number or address as typed; it is normalized first.
    :returns: the normalized target.
    :raises InvalidPhoneNumber: for a number that cannot be read.
    :raises MethodNotAvailable: for a method that sends nothing.
    """
    m = ctx.method(channel)
    if not m.channel:
        raise MethodNotAvailable(T("Contact verification works by sms or email."))
    normalized = m.normalize_target(target, ctx.settings)
    for key in (failure_key(m.name, None, normalized), legacy_failure_key(m.name, None, normalized)):
        yield from delete(ctx, FAILURES, key)
    ctx.emit("unlocked", None, method=m.name, target=m.label(normalized))
    return normalized
