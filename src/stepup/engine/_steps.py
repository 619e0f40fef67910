"""Workflow steps: which workflow a new challenge runs, and firing its steps, when the user
or the app asks (:func:`next_step`) or by a worker once they are due (:func:`run_due`).

A step is one more send of the challenge's code (the same code, made again from its seed:
:mod:`stepup._workflows`) by the step's channel: it takes one of the challenge's sends
(``max_sends`` covers the whole workflow) and is charged to its target's send limits like
any send. Its target is the challenge's own number or address when the channel reaches
the same kind of target, else the subject's bound one (an ``email`` step of an SMS code
goes to the subject's bound address, where the route accepts email); a step with nowhere
to go is skipped and takes no send.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import (
    ChallengeError,
    ConfigurationError,
    DeliveryError,
    InvalidInput,
    LoginEnded,
    MethodNotAvailable,
    RateLimited,
    Throttled,
)
from .._i18n import T
from .._models import Challenge
from .._workflows import NoStepLeft, WorkflowStep, advance, parse_workflow, workflow_code
from ..channels import Channel
from ._accepted import accepts
from ._charges import UNVERIFIED
from ._context import Context
from ._due import claim, due_now, release, schedule, unschedule
from ._effects import CHALLENGE, Flow, get
from ._in_force import check_in_force
from ._limits import charge
from ._moot import end_moot, login_ended
from ._records import find_binding, load_challenge, public, read_policy, read_subject, transition
from ._sending import code_length, deliver, target_send_hits

__all__ = ["check_workflow_senders", "next_step", "run_due", "step_code", "workflow_steps"]

#: the method whose binding a step reaches, by the kind of target of its channel.
_BOUND = {"phone": "sms", "email": "email"}


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[WorkflowStep, ...]:
    return parse_workflow(text)


def workflow_steps(ctx: Context, purpose: str, app: str | None, channel: str | None) -> tuple[WorkflowStep, ...]:
    """The steps a new challenge runs (none: one send, as without a workflow).

    ``workflows_by_app`` first, then ``workflows_by_purpose``, then ``workflow``; a code
    for a target not yet verified (``bind``, ``contact``) runs one only when
    ``workflows_by_purpose`` names its purpose, since each step costs a message to a
    number anyone may type. A workflow applies to a challenge whose method sends by its
    first step's channel.
    """
    s = ctx.settings
    text = s.workflows_by_purpose.get(purpose)
    if purpose not in UNVERIFIED:
        text = s.workflows_by_app.get(app or "", text if text is not None else s.workflow)
    steps = _parsed(text or "")
    return steps if len(steps) > 1 and steps[0].channel == channel else ()


def check_workflow_senders(settings: Any, senders: Mapping[str, Any], channels: Mapping[str, Channel]) -> None:
    """Refuse a workflow whose channel is not in the registry (:mod:`stepup.channels`:
    built in or a plug-in's) or has no sender (when the engine is made).

    :raises ConfigurationError: naming the channel and how to give it a sender.
    """
    texts = [settings.workflow, *settings.workflows_by_purpose.values(), *settings.workflows_by_app.values()]
    for channel in sorted({step.channel for text in texts for step in _parsed(text)}):
        if channel not in channels:
            known = ", ".join(sorted(channels))
            raise ConfigurationError(
                f"A workflow names the unknown channel {channel!r}; channels are {known} "
                "(a plug-in adds its own under the entry point group stepup.channels)."
            )
        if channel not in senders:
            raise ConfigurationError(
                f"A workflow sends by {channel!r}, which has no sender. Name one in STEPUP_SENDER_URLS, "
                f'e.g. \'{{"{channel}": "console://"}}\', or pass senders={{{channel!r}: sender}} to the engine.'
            )


def step_code(ctx: Context, challenge: Challenge) -> str | None:
    """The code of a workflow challenge, made again from its seed (``None`` without one)."""
    if challenge.seed is None:
        return None
    length = code_length(ctx, ctx.method(challenge.method).channel or "", challenge.purpose)
    codes = workflow_code(ctx.keys, challenge.id, challenge.seed, length)
    return next((c for c in codes if ctx.keys.matches(challenge.code_digest, challenge.id, c)), codes[0])


def _target(ctx: Context, challenge: Challenge, channel: str) -> Flow[tuple[str, str] | None]:
    """``(method, target)`` a step by ``channel`` goes to, or ``None`` when it has none."""
    kind = ctx.channel(channel).target
    if kind == ctx.channel(ctx.method(challenge.method).channel or "").target:
        return challenge.method, challenge.target
    bound = _BOUND.get(kind)
    if challenge.subject is None or bound is None or bound not in ctx.methods or not accepts(challenge.accepts, bound):
        return None
    policy = yield from read_policy(ctx)
    if bound not in policy.methods(app=challenge.app, route=challenge.route, subject=challenge.subject):
        return None
    binding = find_binding((yield from read_subject(ctx, challenge.subject)), bound, None)
    return (bound, str(binding["target"])) if binding else None


def _fire(ctx: Context, challenge: Challenge, *, early: bool, worker: bool) -> Flow[tuple[Challenge, bool]]:
    """Fire the challenge's next step: its target's limits charged, the step taken
    atomically (once, whoever else tries), then its message sent.

    :returns: the challenge after it, and whether this call sent its message.
    :raises LoginEnded: a logout ended the challenge's login: it is cancelled instead.
    :raises DeliveryError: no route took the message; the step counts as fired.
    """
    if (yield from login_ended(ctx, challenge)):
        # Nobody can type its code any more (the store refuses the login), so a call
        # reading it out would only cost money; read here, whoever asks for the step.
        yield from end_moot(ctx, challenge.id, "login_ended")
        raise LoginEnded(T("This sign-in has ended. Sign in again."))
    s, now, index = ctx.settings, ctx.clock(), challenge.step + 1
    timing: dict[str, Any] = {"code_ttl": s.code_ttl, "lifetime": s.challenge_lifetime}
    probe = advance(challenge, index, now, early=early, **timing)
    if probe.error is not None:
        raise probe.error
    channel = str((challenge.steps or [])[index][0])
    aimed = yield from _target(ctx, challenge, channel)
    if aimed is not None:
        try:
            # A call costs a number's budget as a text does: the SMS pumping limits hold for it.
            charged = "sms" if ctx.channel(channel).target == "phone" else channel
            yield from charge(ctx, target_send_hits(ctx, charged, aimed[1], challenge.purpose), challenge)
        except RateLimited:
            if not worker:
                raise
            aimed = None  # the worker passes the step: its target has had enough
    outcome = yield from transition(ctx, challenge, advance, index, now, early=early, skip=aimed is None, **timing)
    if outcome.error is not None:
        raise outcome.error
    fired = outcome.challenge or challenge
    if outcome.verdict != "advanced":
        return fired, False  # fired meanwhile by a worker or another request
    try:
        if aimed is None:
            ctx.emit("step_skipped", fired, detail={"channel": channel, "step": index})
        else:
            # The message goes to the step's target; the challenge keeps its own.
            copy = fired.evolve(method=aimed[0], target=aimed[1], fallback=None)
            yield from deliver(ctx, copy, step_code(ctx, fired) or "", channel=channel)
    except DeliveryError:
        yield from schedule(ctx, fired)
        raise
    yield from schedule(ctx, fired)
    if aimed is None and not worker:
        raise MethodNotAvailable(T("There is nowhere to send the code by {channel}.", channel=channel))
    return fired, aimed is not None


def next_step(
    ctx: Context,
    challenge_id: str,
    *,
    subject: str | None = None,
    session: str | None = None,
    client: str | None = None,
    early: bool = False,
) -> Flow[Challenge]:
    """Fire the challenge's next workflow step now ("call me instead"): the same code,
    by the step's channel.

    :param subject: whose challenge it must be (``None`` for contact verification).
    :param session: the session it must have been started in.
    :param client: the caller's address: each step it asks for counts as one of its new
        challenges (``challenges_per_client``).
    :param early: fire it before it is due (the app's own contact API); the user's page
        asks only once it is due.
    :returns: the challenge after it; ``next_event`` says what comes next.
    :raises StepNotDue: not due yet; ``retry_after`` says in how many seconds.
    :raises NoStepLeft: no workflow, or every step has fired.
    :raises NoSendsLeft: every send of the challenge is used.
    :raises ChallengeError: it is verified, cancelled, expired or used up.
    :raises RateLimited: the step's target or the client has had enough; nothing fired.
    :raises MethodNotAvailable: the step had nowhere to go (no bound address): it passed.
    :raises DeliveryError: the step's message could not be sent; the step counts as fired.
    """
    challenge = yield from load_challenge(ctx, challenge_id, subject, session)
    if not challenge.steps:
        raise NoStepLeft(T("This verification has no further step."))
    check_in_force((yield from read_policy(ctx)), challenge)
    s = ctx.settings
    # Refused before the client is charged: a step not due or not left costs nothing.
    probe = advance(challenge, challenge.step + 1, ctx.clock(), early=early, code_ttl=s.code_ttl,
                    lifetime=s.challenge_lifetime)  # fmt: skip
    if probe.error is not None:
        raise probe.error
    if client is not None:
        yield from charge(ctx, [("challenges_per_client", client)], challenge)
    fired, _ = yield from _fire(ctx, challenge, early=early, worker=False)
    return public(fired)


def run_due(ctx: Context, *, limit: int = 100, stop: Callable[[], bool] | None = None) -> Flow[int]:
    """Fire the due workflow steps of pending challenges (what ``stepup worker`` runs).

    Each step is leased in the due index first, so workers running at once share the
    work and each step fires once (:mod:`stepup.engine._due`).

    :param limit: the most steps to take on in this call.
    :param stop: asked before each step; once it says ``True`` the steps not yet fired
        are given back for another worker and the call returns.
    :returns: how many steps sent their message (a step passed for want of a target
        or of its target's limit is not counted).
    :raises StoreUnavailable: the store is down; a step leased stays leased until
        ``worker_lease`` passes.
    """
    now, fired, room = ctx.clock(), 0, limit
    for shard, ids in (yield from due_now(ctx, now, 4 * limit)).items():
        if room <= 0:
            break
        taken = yield from claim(ctx, shard, ids, now, room)
        room -= len(taken)
        for i, challenge_id in enumerate(taken):
            if stop is not None and stop():
                yield from release(ctx, shard, taken[i:])
                return fired
            fired += yield from _run_one(ctx, shard, challenge_id)
    return fired


def _run_one(ctx: Context, shard: str, challenge_id: str) -> Flow[int]:
    """Fire one leased step, or put its entry right when the challenge moved on or ended."""
    record = yield from get(ctx, CHALLENGE, challenge_id)
    challenge = Challenge.from_record(record) if record is not None else None
    event = challenge.next_event if challenge is not None else None
    if challenge is None or event is None or ctx.clock() >= challenge.expires_at:
        yield from unschedule(ctx, shard, challenge_id)
        return 0
    if event.at > ctx.clock():
        yield from schedule(ctx, challenge)
        return 0
    try:
        _, done = yield from _fire(ctx, challenge, early=False, worker=True)
    except DeliveryError:
        return 1  # audited as delivery_failed; the workflow goes on
    except LoginEnded:
        return 0  # cancelled, and out of the index already
    except (ChallengeError, InvalidInput, Throttled):
        yield from unschedule(ctx, shard, challenge_id)  # it ended meanwhile
        return 0
    return int(done)
