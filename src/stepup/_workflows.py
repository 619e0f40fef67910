"""Workflows as data: a challenge's code sent by one channel after another, on a timer.

A workflow is written ``"sms:120,voice:180,voice"`` (Vonage Verify's first workflow): each
step is a channel and the seconds to wait before the next one; the last step has no wait.
This module reads and checks that text, derives the one code every step of a challenge
carries, and moves a challenge to its next step (a pure transition, run inside the
store's atomic update like those of :mod:`stepup._machine`).

The code stays the same across the steps of one challenge, yet the store never holds it:
the challenge keeps a random seed, and the code is a keyed digest (HMAC-SHA256 under the
app's key) of the challenge's id and that seed, so only a holder of the app's key can make
it again for a later step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._crypto import Keyring
from ._errors import ConfigurationError, InvalidInput, NoSendsLeft, RateLimited
from ._i18n import T
from ._machine import Outcome, closed_error
from ._models import Challenge

__all__ = [
    "CHANNEL_TARGETS", "MAX_STEPS", "NoStepLeft", "StepNotDue", "WorkflowStep",
    "advance", "begin", "parse_workflow", "workflow_code", "workflow_expiry",
]  # fmt: skip

#: what each channel's messages go to: a phone number or an email address. (The channel
#: registry replaces this table when it lands.)
CHANNEL_TARGETS: Mapping[str, str] = {"sms": "phone", "voice": "phone", "email": "email"}
#: the most steps a workflow may have (Vonage's longest has three).
MAX_STEPS = 5


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    """One step of a workflow.

    :ivar channel: ``sms``, ``voice`` or ``email``.
    :ivar wait: seconds until the next step (``None`` for the last).
    """

    channel: str
    wait: int | None = None


class StepNotDue(RateLimited):
    """The challenge's next step is not due yet.

    :param retry_after: whole seconds until it is.
    :param channel: the channel of that step.
    """

    code = "step_not_due"

    def __init__(self, message: str, retry_after: int, channel: str) -> None:
        super().__init__(message, retry_after, "workflow")
        self.channel = channel


class NoStepLeft(InvalidInput):
    """The challenge has no further step: it has one only, or every one has fired."""

    status = 409
    code = "no_step_left"


def parse_workflow(text: str, *, name: str = "workflow") -> tuple[WorkflowStep, ...]:
    """The steps of a workflow written ``"sms:120,voice:180,voice"`` (``""``: none, one
    send as without a workflow).

    :param text: the steps, comma-separated, each ``channel:seconds`` but the last.
    :param name: the setting it comes from, for the error.
    :raises ConfigurationError: an unknown channel, a wait that is not a positive whole
        number of seconds, a step but the last without a wait, the last with one, or
        more than :data:`MAX_STEPS` steps.
    """
    if not isinstance(text, str):
        raise ConfigurationError(f'{name} is written like "sms:120,voice", got {text!r}.')
    if not text.strip():
        return ()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_STEPS:
        raise ConfigurationError(f"{name} has {len(parts)} steps; a workflow has at most {MAX_STEPS}.")
    steps = []
    for i, part in enumerate(parts):
        channel, _, wait = part.partition(":")
        if channel not in CHANNEL_TARGETS:
            known = ", ".join(sorted(CHANNEL_TARGETS))
            raise ConfigurationError(f"{name}: unknown channel {channel!r} in {text!r}; channels are {known}.")
        last = i == len(parts) - 1
        if last and wait:
            raise ConfigurationError(f"{name}: the last step ({part!r}) has no wait: nothing comes after it.")
        if not last and not (wait.isdigit() and 1 <= int(wait) <= 86400):
            raise ConfigurationError(
                f"{name}: step {part!r} needs the seconds to wait before the next step, 1 to 86400, "
                'e.g. "sms:120,voice".'
            )
        steps.append(WorkflowStep(channel, None if last else int(wait)))
    return tuple(steps)


def check_workflows(settings: Any) -> None:
    """Refuse a workflow setting that could never run (:func:`stepup._config_checks.check_settings`).

    :raises ConfigurationError: naming the setting and what it takes.
    """
    tables = {"workflows_by_purpose": settings.workflows_by_purpose, "workflows_by_app": settings.workflows_by_app}
    texts = [("workflow", settings.workflow)]
    for table_name, table in tables.items():
        if not isinstance(table, Mapping):
            raise ConfigurationError(f'{table_name} is a table of workflows, e.g. {{"login": "sms:120,voice"}}.')
        texts += [(f"{table_name}[{key!r}]", text) for key, text in table.items()]
    purposes = {"login", "step_up", "operation", "bind", "contact"}
    for key in settings.workflows_by_purpose:
        if key not in purposes:
            raise ConfigurationError(f"workflows_by_purpose: {key!r} is not a purpose ({', '.join(sorted(purposes))}).")
    for name, text in texts:
        steps = parse_workflow(text, name=name)
        total = sum(step.wait or 0 for step in steps)
        if total >= settings.challenge_lifetime:
            raise ConfigurationError(
                f"{name} waits {total} s in all, as long as challenge_lifetime ({settings.challenge_lifetime} s) "
                "or longer: its last step would never fire. Shorten it or raise challenge_lifetime."
            )


def workflow_code(keys: Keyring, challenge_id: str, seed: str, length: int) -> list[str]:
    """The code of a workflow challenge under each of the app's keys, newest first (the
    one to send is the one whose digest the challenge holds: a key rotated in meanwhile
    does not change it).

    :param keys: the app's keys.
    :param challenge_id: the challenge's id.
    :param seed: its random seed (``secrets``).
    :param length: digits of the code.
    """
    digests = keys.digests("stepup.workflow-code", challenge_id, seed)
    return [str(int(d, 16) % 10**length).zfill(length) for d in digests]


def workflow_expiry(challenge: Challenge, steps: Sequence[Sequence[Any]], index: int, now: float, *,
                    code_ttl: float, lifetime: float) -> float:  # fmt: skip
    """When a challenge whose step ``index`` fires at ``now`` expires: its code is good
    through the steps still to come and ``code_ttl`` after the last, never past
    ``lifetime`` from its start, and never sooner than it was."""
    ahead = sum(int(wait or 0) for _, wait in steps[index:])
    return min(challenge.created_at + lifetime, max(challenge.expires_at, now + ahead + code_ttl))


def begin(challenge: Challenge, steps: Sequence[WorkflowStep], seed: str, *, code_ttl: float,
          lifetime: float) -> Challenge:  # fmt: skip
    """A new challenge with its workflow: the first step sent as it is made, the next timed
    from then, and a code good through the whole workflow."""
    plan = [[step.channel, step.wait] for step in steps]
    started = challenge.evolve(steps=plan, step=0, seed=seed, next_at=challenge.created_at + (steps[0].wait or 0))
    expires = workflow_expiry(started, plan, 0, challenge.created_at, code_ttl=code_ttl, lifetime=lifetime)
    return started.evolve(expires_at=expires)


def advance(
    challenge: Challenge, index: int, now: float, *, early: bool, skip: bool = False, code_ttl: float, lifetime: float
) -> Outcome:
    """Fire step ``index`` of the challenge: one send of it taken, the next step timed.

    :param challenge: the stored challenge.
    :param index: the step to fire (the one after the last fired, as the caller saw it).
    :param now: the current time.
    :param early: fire it even though it is not due yet (the app's own request).
    :param skip: pass it without a message (it has nowhere to go): no send is taken.
    :param code_ttl: seconds a code stays valid after the last step.
    :param lifetime: seconds a challenge may live in all.
    :returns: the outcome: ``advanced``, or unchanged with ``verdict`` ``moved`` when the
        step fired already (another worker, another request).
    """
    closed = closed_error(challenge, now)
    if closed is not None:
        return Outcome(challenge, challenge.state, closed)
    steps = challenge.steps or []
    if challenge.step + 1 != index:
        return Outcome(challenge, "moved")
    if index >= len(steps):
        return Outcome(challenge, "", NoStepLeft(T("This verification has no further step.")))
    if not skip and challenge.sends_left <= 0:
        return Outcome(challenge, "", NoSendsLeft(T("No more codes can be sent for this request. Start again.")))
    channel, at = str(steps[index][0]), challenge.next_at or now
    if not early and now < at:
        wait = max(1, math.ceil(at - now))
        error = StepNotDue(T("The next step is due in {seconds} s.", seconds=wait), wait, channel)
        return Outcome(challenge, "", error)
    wait = steps[index][1]
    fired = challenge.evolve(
        step=index,
        sends_left=challenge.sends_left - (0 if skip else 1),
        last_sent_at=challenge.last_sent_at if skip else now,
        next_at=now + int(wait) if wait is not None and index + 1 < len(steps) else None,
        expires_at=workflow_expiry(challenge, steps, index, now, code_ttl=code_ttl, lifetime=lifetime),
    )
    return Outcome(fired, "advanced", changed=True)
