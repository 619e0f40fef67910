"""Charging rate limits in the store: every hit of a step or none, with a new challenge in
the same atomic step, and the hits a failed send gives back.

What each step is charged to is :mod:`stepup.engine._charges`; what a failed send gives
back is :mod:`stepup.engine._delivery`.
"""

from __future__ import annotations

from typing import Any

from .._errors import RateLimited, StepUpError
from .._models import Challenge
from ..stores import ManyMutator, Write
from ._charges import Hit
from ._context import Context
from ._delivery import GIVEN_BACK
from ._effects import CHALLENGE, FAILURES, Flow, update_many
from ._locks import lock_error

__all__ = ["charge", "charging", "refuse", "withdraw"]

Records = list[dict[str, Any] | None]


def charge(
    ctx: Context,
    hits: list[Hit],
    challenge: Challenge | None = None,
    *,
    create: float | None = None,
    locks: tuple[str, ...] = (),
    **audit: Any,
) -> Flow[float]:
    """Charge one hit to each ``(limit, identifier)`` of ``hits``, all or none, in one
    atomic store step; with ``create`` (a TTL), also write ``challenge`` as a new
    record in that step, if every limit took its hit.

    :param locks: keys of failure records read in the same step: when one is locked
        outright, nothing is charged or written (a lock that lands meanwhile holds).
    :returns: the time the hits were taken at (to give one back: :func:`withdraw`).
    :raises RateLimited: a limit is full; nothing was charged or written.
    :raises MethodLocked: a record of ``locks`` is locked.
    """
    now = ctx.clock()
    items, step = charging(ctx, hits, challenge, create=create, locks=locks, now=now)
    if items:
        refuse(ctx, (yield from update_many(ctx, items, step)), challenge, **audit)
    return now


def charging(
    ctx: Context,
    hits: list[Hit],
    challenge: Challenge | None = None,
    *,
    create: float | None = None,
    locks: tuple[str, ...] = (),
    now: float,
) -> tuple[list[Write], ManyMutator[StepUpError | None]]:
    """The records :func:`charge` writes and its step (pure), for a flow that charges in a
    step of its own making (:func:`stepup.engine._issue.issue`); the step's result is the
    error to hand to :func:`refuse`."""
    items = ctx.limits.items(hits)
    limits, n, m = ctx.limits, len(hits), len(locks)
    items += [(FAILURES, key, None) for key in locks]
    if create is not None and challenge is not None:
        items.append((CHALLENGE, challenge.id, create))
        record = challenge.to_record()

    def step(records: Records) -> tuple[Records, StepUpError | None]:
        locked = next((e for r in records[n : n + m] if (e := lock_error(r, now, backoff=False))), None)
        new, limited = limits.charge(hits, records[:n], now)
        error: StepUpError | None = limited
        if locked is not None:
            new, error = list(records[:n]), locked
        new += records[n : n + m]
        if len(records) > n + m:
            new.append(record if error is None else records[n + m])
        return new, error

    return items, step


def refuse(ctx: Context, error: StepUpError | None, challenge: Challenge | None, **audit: Any) -> None:
    """Raise the error of a charge's step, once a refusal by a limit is audited.

    :raises StepUpError: ``error``, when there is one.
    """
    if isinstance(error, RateLimited):
        ctx.emit("rate_limited", challenge, detail={"limit": error.limit}, **audit)
    if error is not None:
        raise error


def withdraw(ctx: Context, challenge: Challenge, hits: list[Hit], at: float) -> Flow[None]:
    """Remove a challenge whose code could not be sent, and give back the hits of
    ``hits`` (taken at ``at``) that a failed send does not cost (the rule is
    :data:`stepup.engine._delivery.GIVEN_BACK`), in one atomic step."""
    back = [hit for hit in hits if hit[0] in GIVEN_BACK]
    items = [*ctx.limits.items(back), (CHALLENGE, challenge.id, None)]
    limits = ctx.limits

    def step(records: Records) -> tuple[Records, None]:
        return [*limits.give_back(back, records[:-1], at), None], None

    yield from update_many(ctx, items, step)
