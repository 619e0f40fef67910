"""Contact verification in the shape of Vonage Verify: a code to a number or address that
belongs to no subject yet, checked, or cancelled."""

from __future__ import annotations

from .._errors import MethodNotAvailable
from .._i18n import T
from .._models import ContactResult
from ._challenges import cancel
from ._context import Context
from ._effects import Flow
from ._issue import ChallengeSpec, issue
from ._records import read_policy
from ._verify import verify

__all__ = ["cancel_contact", "check_contact", "request_contact"]


def request_contact(
    ctx: Context, channel: str, to: object, *, client: str | None = None, locale: str | None = None
) -> Flow[str]:
    """Send a code to ``to`` to confirm the person controls it.

    :param channel: ``sms`` or ``email``.
    :param to: the number or address as typed.
    :param locale: the language of the message.
    :returns: the request id to check the code against.
    :raises InvalidPhoneNumber: see :meth:`begin_bind`.
    :raises RateLimited: too many codes to this target.
    """
    m = ctx.method(channel)
    if not m.channel:
        raise MethodNotAvailable(T("Contact verification works by sms or email."))
    policy = yield from read_policy(ctx)
    if m.name not in policy.methods():
        raise MethodNotAvailable(T("{method} is switched off. Choose another channel.", method=m.name))
    target = m.normalize_target(to, ctx.settings)
    challenge = yield from issue(ctx, ChallengeSpec(None, m.name, "contact", target, client=client, locale=locale))
    return challenge.id


def check_contact(ctx: Context, request_id: str, code: object, *, client: str | None = None) -> Flow[ContactResult]:
    """Check the code of a contact verification.

    :raises WrongCode: with ``attempts_left``; the third wrong code ends the request.
    """
    approval = yield from verify(ctx, request_id, code, client=client)
    return ContactResult(approval.challenge_id, approval.method, approval.target, approval.approved_at)


def cancel_contact(ctx: Context, request_id: str) -> Flow[None]:
    """Cancel a contact verification."""
    yield from cancel(ctx, request_id)
