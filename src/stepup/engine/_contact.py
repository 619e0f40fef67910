"""Contact verification in the shape of Vonage Verify: a code to a number or address that
belongs to no subject yet, checked, or cancelled."""

from __future__ import annotations

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
from ._verify import verify

__all__ = ["cancel_contact", "charge_client", "check_contact", "next_contact", "request_contact"]


def request_contact(
    ctx: Context, channel: str, to: object, *, client: str | None = None, locale: str | None = None
) -> Flow[str]:
    """Send a code to ``to`` to confirm the person controls it.

    :param channel: ``sms`` or ``email``.
    :param to: the number or address as typed.
    :param locale: the language of the message.
    :param client: the caller's address, for the per-client limits.
    :returns: the request id to check the code against.
    :raises InvalidPhoneNumber: see :meth:`begin_bind`.
    :raises RequestPending: a request to the same target is pending (with its
        ``request_id``), unless ``contact_parallel_requests`` is on; nothing is charged.
    :raises RateLimited: too many codes to this target.
    """
    m = ctx.method(channel)
    if not m.channel:
        raise MethodNotAvailable(T("Contact verification works by sms or email."))
    policy = yield from read_policy(ctx)
    if m.name not in policy.methods():
        raise MethodNotAvailable(T("{method} is switched off. Choose another channel.", method=m.name))
    target = m.normalize_target(to, ctx.settings)
    spec = ChallengeSpec(None, m.name, "contact", target, client=client, locale=locale)
    if ctx.settings.contact_parallel_requests:
        challenge = yield from issue(ctx, spec)
    else:
        reads, guard = one_pending(ctx, target)
        challenge = yield from issue(ctx, spec, reads, guard=guard)
    return challenge.id


def check_contact(ctx: Context, request_id: str, code: object, *, client: str | None = None) -> Flow[ContactResult]:
    """Check the code of a contact verification.

    :raises WrongCode: with ``attempts_left``; the third wrong code ends the request.
    """
    approval = yield from verify(ctx, request_id, code, client=client)
    return ContactResult(approval.challenge_id, approval.method, approval.target, approval.approved_at)


def cancel_contact(ctx: Context, request_id: str, *, client: str | None = None) -> Flow[None]:
    """Cancel a contact verification; its code stops working and the target may be asked
    again at once.

    :param client: the caller's address, charged as a check is.
    :raises ChallengeNotFound: no such request (the client is charged for the guess).
    :raises ChallengeClosed: it had already ended.
    :raises RateLimited: too many calls from this client.
    """
    yield from charge_client(ctx, request_id, client)
    yield from cancel(ctx, request_id)


def charge_client(ctx: Context, request_id: str, client: str | None) -> Flow[None]:
    """Charge a call about one contact request to its caller's address, as a check is
    charged: an unknown id to ``unknown_ids_per_client`` (guessing), a known one to
    ``verifications_per_client``.

    :raises ChallengeNotFound: no such request.
    :raises ChallengeForbidden: a subject's challenge, not a contact request.
    :raises RateLimited: the client's limit is full.
    """
    if client is None:
        return
    try:
        yield from load_challenge(ctx, request_id, None, None)
    except ChallengeNotFound:
        yield from charge(ctx, [("unknown_ids_per_client", client)])
        raise
    yield from charge(ctx, [("verifications_per_client", client)])


def next_contact(ctx: Context, request_id: str, *, client: str | None = None) -> Flow[Challenge]:
    """Send a contact verification's next step now, without waiting for its time (Vonage's
    trigger-next-event): its workflow's next channel, with the same code.

    :param client: the caller's address, charged as a check is.
    :returns: the request as it stands, with its ``next_event``.
    :raises ChallengeNotFound: no such request (the client is charged for the guess).
    :raises ChallengeClosed: it had ended: verified, cancelled or used up.
    :raises MethodNotAvailable: its workflow has no step left.
    :raises RateLimited: too many calls from this client, or sends to its target.
    """
    yield from charge_client(ctx, request_id, client)
    yield from load_challenge(ctx, request_id, None, None)
    # One step a request until workflows come: there is never a next one.
    raise MethodNotAvailable(T("This request has no next step."))
