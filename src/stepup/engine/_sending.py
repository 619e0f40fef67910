"""Sending a challenge's code: each route in turn (the country's provider, the channel's
own, its fallback, then the subject's email) until one takes it.

What a failed send is and what it costs is :mod:`stepup.engine._delivery`; which sender
carries each route is :mod:`stepup.engine._channels`.
"""

from __future__ import annotations

from typing import Any

from .. import _machine
from .._errors import DeliveryError, RateLimited
from .._i18n import T
from .._models import Challenge, Message
from .._sms import sms_length
from .._targets import sms_region
from ._channels import channel_routes
from ._charges import Hit, send_hits
from ._context import Context
from ._delivery import as_delivery_error
from ._effects import Flow, send
from ._limits import charge
from ._records import transition

__all__ = ["code_length", "deliver", "delivery_detail", "target_send_hits"]

#: the route of a code that goes to the subject's email because no SMS could be sent.
_EMAIL_FALLBACK = "email:fallback"


def code_length(ctx: Context, channel: str, purpose: str) -> int:
    """How many digits a code sent by ``channel`` has."""
    s = ctx.settings
    table = s.contact_code_length if purpose == "contact" else s.code_length
    return int(table.get(channel, 6))


def target_send_hits(ctx: Context, method_name: str, target: str, purpose: str) -> list[Hit]:
    """The limits one send to ``target`` is charged to (:mod:`stepup.engine._charges`)."""
    return send_hits(method_name, target, purpose, ctx.settings.sms_prefix_digits)


def _routes(ctx: Context, challenge: Challenge, channel: str) -> list[str]:
    """The senders to try in turn: the channel's own (for SMS, the provider of the
    number's country, or the default one), its fallback, then for SMS the subject's
    email (:mod:`stepup.engine._channels`)."""
    if channel != "sms":
        return channel_routes(channel, ctx.senders)
    region = sms_region(challenge.target)
    first = f"sms:{region}" if region in ctx.settings.sms_routes else None
    routes = channel_routes("sms", ctx.senders, first=first)
    if challenge.fallback:
        routes.append(_EMAIL_FALLBACK)
    return routes


def delivery_detail(ctx: Context, route: str, message: Message, locale: str) -> dict[str, Any]:
    """What a send's audit event says of it for operators: the provider that carried it,
    the message's language, and for SMS the destination country, its encoding and the
    segments billed (:func:`stepup.sms_length`, computed once here)."""
    sender = ctx.senders.get(route)
    inner = getattr(sender, "sync", sender)
    name = getattr(getattr(inner, "api", None), "name", None) or type(inner).__name__.removesuffix("Sender")
    detail: dict[str, Any] = {"channel": message.channel, "provider": str(name).lower(), "locale": locale}
    if message.channel == "sms":  # what it costs: operators see segments per country and locale
        length = sms_length(message.body)
        detail.update(country=sms_region(message.to), encoding=length.encoding, segments=length.segments)
    return detail


def _locale(ctx: Context, challenge: Challenge) -> str:
    """The language a challenge's messages go out in."""
    return challenge.locale or ctx.settings.default_locale


def _message(ctx: Context, challenge: Challenge, code: str, channel: str) -> Message:
    subject, body = ctx.messages.code_message(
        challenge.purpose, channel, code, challenge.expires_at - ctx.clock(), challenge.operation,
        locale=_locale(ctx, challenge),
    )  # fmt: skip
    return Message(channel, challenge.target, body, subject if channel == "email" else "", challenge.purpose)


def deliver(ctx: Context, challenge: Challenge, code: str, channel: str | None = None) -> Flow[Challenge]:
    """Send the code by each route in turn until one takes it.

    :param channel: the channel to send by (a workflow's step); default: the method's.

    Every failure is audited (``delivery_failed``), and the send that worked after one
    says which fallback it was (``sent`` with ``{"fallback": "sms:fallback"}`` or
    ``{"fallback": "email"}``).

    :returns: the challenge as delivered: moved to email when the code went there.
    :raises DeliveryError: every route failed (whatever each sender raised); nothing
        is charged by this flow.
    """
    failures: list[DeliveryError] = []
    channel = channel or ctx.method(challenge.method).channel or ""
    for route in _routes(ctx, challenge, channel):
        current, sender = challenge, route
        if route == _EMAIL_FALLBACK:
            moved = yield from _to_email(ctx, challenge)
            if moved is None:
                continue
            current, sender = moved, "email"
        message = _message(ctx, current, code, "email" if route == _EMAIL_FALLBACK else channel)
        try:
            yield from send(ctx, sender, message)
        except Exception as error:  # whatever a sender raises is a failed send
            e = as_delivery_error(error, message.channel, route)
            carried = delivery_detail(ctx, sender, message, _locale(ctx, current))
            detail = {"reason": e.reason or e.message, "via": route, **carried}
            ctx.emit("delivery_failed", current, detail=detail)
            failures.append(e)
            continue
        detail = delivery_detail(ctx, sender, message, _locale(ctx, current))
        ctx.emit("sent", current, detail={**detail, "fallback": sender} if failures else detail)
        return current
    raise _undelivered(failures)


def _to_email(ctx: Context, challenge: Challenge) -> Flow[Challenge | None]:
    """Move a challenge whose SMS failed to the subject's email (``None`` when the
    address's own send limit is full)."""
    address = challenge.fallback or ""
    try:
        yield from charge(ctx, target_send_hits(ctx, "email", address, challenge.purpose), challenge)
    except RateLimited:
        return None
    locale = challenge.locale or ctx.settings.default_locale
    notice = ctx.messages.fallback_notice("sms", "email", ctx.method("email").label(address), locale)
    outcome = yield from transition(ctx, challenge, _machine.redirect, "email", address, notice, challenge.code_digest)
    if outcome.error is not None:
        raise outcome.error
    return outcome.challenge


def _undelivered(failures: list[DeliveryError]) -> DeliveryError:
    """One error for a code no route could send."""
    if len(failures) == 1:
        return failures[0]
    reasons = "; ".join(e.reason or e.message for e in failures)
    return DeliveryError(
        T("The code could not be sent, by any of the ways tried. Try again in a few minutes or choose another method."),
        failures[0].channel,
        reasons,
    )
