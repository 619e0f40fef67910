"""Contact verification in the shape of Vonage Verify: a code to a number or address that
belongs to no subject yet, checked, cancelled, or sent again by its workflow's next step
now; one request a target at a time (:mod:`stepup.engine._pending`)."""

from __future__ import annotations

from .. import _machine
from .._errors import ChallengeNotFound, MethodNotAvailable
from .._i18n import T
from .._models import Challenge, ContactResult
from ._challenges import cancel
from ._context import Context
from ._effects import Flow
from ._issue import ChallengeSpec, issue
from ._limits import charge
from ._pending import one_pending
from ._records import load_challenge, read_policy
from ._steps import next_step
from ._verify import verify

__all__ = ["cancel_contact", "check_contact", "next_contact", "request_contact"]


def request_contact(
    ctx: Context,
    channel: str,
    to: object,
    *,
    client: str | None = None,
    locale: str | None = None,
    session: str | None = None,
) -> Flow[str]:
    """Send a code to ``to`` to confirm the person controls it.

    :param channel: ``sms`` or ``email``.
    :param to: the number or address as typed.
    :param locale: the language of the message.
    :param client: the caller's address, for the per-client limits.
    :param session: the caller's session (the web layer's); the request is then its
        alone: check, cancel and next step from any other session are refused (403).
        ``None``: the app's own code, whose requests anyone holding the id may use.
    :returns: the request id to check the code against.
    :raises InvalidPhoneNumber: see :meth:`begin_bind`.
    :raises RequestPending: a request to the same target is pending, unless
        ``contact_parallel_requests`` is on; nothing is charged. Its ``request_id`` names
        the pending request for the session that made it, or when ``session`` is
        ``None``; anyone else gets ``None`` and ``retry_after``.
    :raises RateLimited: too many codes to this target.
    """
    m = ctx.method(channel)
    if not m.channel:
        raise MethodNotAvailable(T("Contact verification works by sms or email."))
    policy = yield from read_policy(ctx)
    if m.name not in policy.methods():
        raise MethodNotAvailable(T("{method} is switched off. Choose another channel.", method=m.name))
    target = m.normalize_target(to, ctx.settings)
    spec = ChallengeSpec(None, m.name, "contact", target, session=session, client=client, locale=locale)
    if ctx.settings.contact_parallel_requests:
        challenge = yield from issue(ctx, spec)
    else:
        reads, guard = one_pending(ctx, target, session)
        challenge = yield from issue(ctx, spec, reads, guard=guard)
    return challenge.id


def check_contact(
    ctx: Context, request_id: str, code: object, *, client: str | None = None, session: str | None = None
) -> Flow[ContactResult]:
    """Check the code of a contact verification.

    :param session: the caller's session; a request made in a session takes codes only
        from it.
    :raises WrongCode: with ``attempts_left``; the third wrong code ends the request.
    :raises ChallengeForbidden: the request was made in another session; nothing charged.
    """
    approval = yield from verify(ctx, request_id, code, session=session, client=client)
    return ContactResult(approval.challenge_id, approval.method, approval.target, approval.approved_at)


def cancel_contact(
    ctx: Context, request_id: str, *, client: str | None = None, session: str | None = None
) -> Flow[None]:
    """Cancel a contact verification; its code stops working and the target may be asked
    again at once.

    :param client: the caller's address: a cancel is charged as a check is
        (``verifications_per_client``), a guessed id as a guess.
    :param session: the caller's session; a request made in a session is cancelled only
        from it.
    :raises ChallengeNotFound: no such request.
    :raises ChallengeForbidden: the request was made in another session; nothing charged.
    :raises ChallengeClosed: it had already ended (nothing is charged).
    :raises RateLimited: too many calls from this client; nothing changed.
    """
    challenge = yield from _known(ctx, request_id, client, session)
    if client is not None and _machine.closed_error(challenge, ctx.clock()) is None:
        yield from charge(ctx, [("verifications_per_client", client)], challenge)
    yield from cancel(ctx, request_id, session=session)


def next_contact(
    ctx: Context, request_id: str, *, client: str | None = None, session: str | None = None
) -> Flow[Challenge]:
    """Send a contact verification's next step now, without waiting for its time (Vonage's
    trigger-next-event): its workflow's next channel, with the same code.

    :param client: the caller's address: a next step is charged as a new challenge
        (``challenges_per_client``), a guessed id as a guess.
    :param session: the caller's session; a request made in a session takes its next
        step only from it.
    :returns: the request as it stands, with its ``next_event``.
    :raises ChallengeNotFound: no such request.
    :raises ChallengeForbidden: the request was made in another session; nothing sent or charged.
    :raises NoStepLeft: its workflow has no step left (or it has none).
    :raises ChallengeError: it had ended: verified, cancelled, used up or expired.
    :raises RateLimited: too many calls from this client, or sends to its target.
    """
    yield from _known(ctx, request_id, client, session)
    return (yield from next_step(ctx, request_id, session=session, client=client, early=True))


def _known(ctx: Context, request_id: str, client: str | None, session: str | None) -> Flow[Challenge]:
    """The contact request ``request_id``; an unknown id is charged to the client as a
    guess (``unknown_ids_per_client``), as a check's is.

    :raises ChallengeNotFound: no such request.
    :raises ChallengeForbidden: a subject's challenge, not a contact request, or a request
        made in another session (nothing is charged: the id was not guessed).
    """
    try:
        return (yield from load_challenge(ctx, request_id, None, session))
    except ChallengeNotFound:
        if client is not None:
            yield from charge(ctx, [("unknown_ids_per_client", client)])
        raise
