"""A subject's bindings: binding a phone, an address or an app (verify before bind),
recovery codes, removing one or all, and telling the subject's other channels."""

from __future__ import annotations

from typing import Any

from .._crypto import new_id
from .._errors import MethodNotAvailable, NothingToBackUp
from .._i18n import N_, T, translate
from .._models import Binding, BindStart, Challenge, Message
from .._otp import (
    check_totp_secret,
    new_recovery_codes,
    normalize_recovery_code,
    provisioning_uri,
    qr_svg,
    recovery_digest,
)
from ._context import Context
from ._delivery import as_delivery_error
from ._effects import SUBJECT, Flow, delete, send, update
from ._enrolment import recovery_codes_refusal
from ._issue import ChallengeSpec, issue
from ._locale import locale_of
from ._locks import unlock
from ._records import read_policy, read_subject

__all__ = [
    "begin_bind", "bind_from", "binding_view", "bindings", "generate_recovery_codes",
    "import_binding", "mark_used", "marked_used", "reset", "unbind",
]  # fmt: skip


def begin_bind(
    ctx: Context,
    subject: str,
    method: str,
    target: object = None,
    *,
    account: str | None = None,
    session: str | None = None,
    app: str | None = None,
    client: str | None = None,
    locale: str | None = None,
) -> Flow[BindStart]:
    """Start binding a phone, an email or an authenticator app to a subject.

    Nothing is stored on the subject until the code passes (verify before bind): the
    new target or secret waits in the challenge. For SMS and email a code goes to the
    new target; for TOTP the result carries the secret, its URI and a QR code.

    :param subject: the app's user id.
    :param method: ``sms``, ``email`` or ``totp``.
    :param target: the phone number or email address as the user typed it.
    :param account: the name an authenticator app shows (defaults to ``subject``).
    :param locale: the language of the code's message (the request's).
    :raises InvalidPhoneNumber: with the reason the number is refused.
    :raises InvalidEmail: for an address that is not well formed.
    :raises MethodNotAvailable: for recovery codes or a method switched off.
    """
    m, s = ctx.method(method), ctx.settings
    if m.name == "recovery":
        raise MethodNotAvailable(T("Recovery codes are made with generate_recovery_codes, not bound."))
    policy = yield from read_policy(ctx)
    if m.name not in policy.methods(app=app, subject=subject):
        raise MethodNotAvailable(T("{method} is switched off here. Choose another method.", method=m.name))
    normalized = m.normalize_target(target, s)
    pending = m.enrol(normalized, s)
    locale = (yield from locale_of(ctx, subject)) or locale  # the subject's own language first
    spec = ChallengeSpec(
        subject, m.name, "bind", normalized, pending={"target": normalized, **pending},
        session=session, app=app, client=client, locale=locale,
    )  # fmt: skip
    challenge = yield from issue(ctx, spec)
    secret = pending.get("secret")
    if secret is None:
        return BindStart(challenge)
    uri = provisioning_uri(secret, account or subject, s.app_name, digits=s.totp_digits, period=s.totp_period)
    return BindStart(challenge, provisioning_uri=uri, qr_svg=qr_svg(uri), secret=secret)


def bind_from(ctx: Context, challenge: Challenge) -> Flow[Binding]:
    """Store what an approved bind challenge waited with."""
    data = dict(challenge.pending or {})
    target = data.pop("target", challenge.target)
    record = {"id": new_id(), "method": challenge.method, "target": target, "created_at": ctx.clock(), **data}
    return (yield from _add_binding(ctx, challenge.subject or "", record))


def _add_binding(ctx: Context, subject: str, new: dict[str, Any], *, notify: bool = True) -> Flow[Binding]:
    method = ctx.method(new["method"])

    def add(record: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
        bindings = list((record or {}).get("bindings", []))
        first = new["method"] != "recovery" and all(b["method"] == "recovery" for b in bindings)
        for b in bindings:
            if b["method"] == new["method"] and method.channel and b["target"] == new["target"]:
                return record or {}, b  # already bound: nothing changes
        # One authenticator app and one set of recovery codes at a time: a new one replaces the old.
        if not method.channel and not getattr(method, "several", False):
            bindings = [b for b in bindings if b["method"] != new["method"]]
        # Codes from before a first sign-in method back up nothing the password does not
        # (stepup.engine._enrolment): the first method drops them.
        if first:
            bindings = [b for b in bindings if b["method"] != "recovery"]
        return {**(record or {}), "bindings": [*bindings, new]}, new

    stored = yield from update(ctx, SUBJECT, subject, add, None)
    binding = binding_view(ctx, stored)
    if stored is new:
        ctx.emit("bound", None, subject=subject, method=binding.method, target=binding.label)
        if notify:
            yield from _notify(ctx, subject, "bound", binding)
    return binding


def binding_view(ctx: Context, b: dict[str, Any]) -> Binding:
    """A stored binding as callers see it: masked, without secrets."""
    method = ctx.methods.get(b["method"])
    label = method.label(b.get("target", "")) if method else b["method"]
    remaining = len(b.get("codes", [])) if b["method"] == "recovery" else None
    return Binding(b["id"], b["method"], label, b.get("created_at", 0.0), remaining, b.get("last_used"))


def _notify(ctx: Context, subject: str, change: str, changed: Binding) -> Flow[None]:
    """Tell the subject's other channels that a binding changed; best effort."""
    record = yield from read_subject(ctx, subject)
    stored = record.get("locale")
    locale = stored if isinstance(stored, str) else ctx.settings.default_locale
    what = _describe(changed, locale, ctx.settings.translations_dir)
    for b in record.get("bindings", []):
        channel = ctx.methods[b["method"]].channel if b["method"] in ctx.methods else None
        if not channel or b["id"] == changed.id:
            continue
        title, body = ctx.messages.notice(change, what, locale, channel)
        try:
            message = Message(channel, b["target"], body, title if channel == "email" else "", "notice")
            yield from send(ctx, channel, message)
        except Exception as error:  # best effort, whatever the sender raised
            e = as_delivery_error(error, channel, channel)
            detail = {"reason": e.reason or e.message}
            ctx.emit("delivery_failed", None, subject=subject, method=b["method"], detail=detail)


def mark_used(ctx: Context, approved: Challenge) -> Flow[None]:
    """Note when the binding that passed ``approved`` was last used (a TOTP or recovery
    challenge's target is its binding's id; a delivered one's, its phone or address)."""
    now = ctx.clock()
    yield from update(ctx, SUBJECT, approved.subject or "", lambda r: (marked_used(ctx, approved, r, now), None), None)


def marked_used(ctx: Context, approved: Challenge, record: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """The subject's record with the binding that passed ``approved`` marked used at
    ``now`` (pure: :func:`mark_used`, and a verify's own step on an atomic store)."""
    if record is None:
        return None
    by_id = not ctx.method(approved.method).channel
    marked = [
        {**b, "last_used": now}
        if b["method"] == approved.method and (b["id"] if by_id else b.get("target")) == approved.target else b
        for b in record.get("bindings", [])
    ]  # fmt: skip
    return {**record, "bindings": marked}


def bindings(ctx: Context, subject: str) -> Flow[list[Binding]]:
    """The subject's bindings, masked, without secrets."""
    record = yield from read_subject(ctx, subject)
    return [binding_view(ctx, b) for b in record.get("bindings", [])]


def unbind(ctx: Context, subject: str, binding_id: str) -> Flow[Binding]:
    """Remove one binding; the subject's other channels are told.

    :raises MethodNotAvailable: no such binding.
    """

    def remove(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        found = (record or {}).get("bindings", [])
        kept = [b for b in found if b["id"] != binding_id]
        gone = next((b for b in found if b["id"] == binding_id), None)
        return ({**(record or {}), "bindings": kept} if gone else record), gone

    gone = yield from update(ctx, SUBJECT, subject, remove, None)
    if gone is None:
        raise MethodNotAvailable(T("No such binding. It may have been removed already."))
    binding = binding_view(ctx, gone)
    ctx.emit("unbound", None, subject=subject, method=binding.method, target=binding.label)
    yield from _notify(ctx, subject, "unbound", binding)
    return binding


def reset(ctx: Context, subject: str) -> Flow[int]:
    """Remove every binding of a subject and lift its locks (the "lost my phone" case).

    :returns: how many bindings were removed.
    """
    record = yield from read_subject(ctx, subject)
    yield from delete(ctx, SUBJECT, subject)
    yield from unlock(ctx, subject)
    count = len(record.get("bindings", []))
    ctx.emit("reset", None, subject=subject, detail={"bindings": count})
    return count


def generate_recovery_codes(ctx: Context, subject: str) -> Flow[list[str]]:
    """Make a new set of recovery codes, replacing any old set.

    The codes are returned once; only their keyed digests are stored. The caller
    vouches for a fresh second factor (the pages ask one); the engine checks that
    there is a sign-in method to back up (:mod:`stepup.engine._enrolment`).

    :raises NothingToBackUp: the subject has no sign-in method bound.
    """
    bound = yield from bindings(ctx, subject)
    if recovery_codes_refusal(bound, fresh=True) is not None:
        raise NothingToBackUp(
            T("Recovery codes back up a sign-in method: add a phone, an email address or an authenticator app first.")
        )
    binding_id = new_id()
    codes = new_recovery_codes(ctx.settings.recovery_code_count)
    digests = [recovery_digest(ctx.keys, binding_id, normalize_recovery_code(c) or "") for c in codes]
    new = {"id": binding_id, "method": "recovery", "target": "", "created_at": ctx.clock(), "codes": digests}
    yield from _add_binding(ctx, subject, new)
    return codes


def import_binding(
    ctx: Context, subject: str, method: str, target: object = None, *, secret: str | None = None
) -> Flow[Binding]:
    """Bind without a challenge, for provisioning that is trusted already (an import,
    a demo user). The target is still checked.

    :param secret: for TOTP, an existing base32 secret.
    :raises InvalidInput: for a secret that is not base32 of 112 bits or more.
    """
    m = ctx.method(method)
    if m.name == "recovery":
        raise MethodNotAvailable(T("Recovery codes are made with generate_recovery_codes."))
    normalized = m.normalize_target(target, ctx.settings)
    data = m.enrol(normalized, ctx.settings)
    if secret is not None:
        data["secret"] = check_totp_secret(secret)
    record = {"id": new_id(), "method": m.name, "target": normalized, "created_at": ctx.clock(), **data}
    return (yield from _add_binding(ctx, subject, record, notify=False))


_DESCRIPTIONS = {
    "sms": N_("The phone number {label}"),
    "email": N_("The email address {label}"),
    "totp": N_("An authenticator app"),
    "recovery": N_("A set of recovery codes"),
    "passkey": N_("The passkey {label}"),
}


def _describe(binding: Binding, locale: str, extra: str) -> str:
    """A binding in words for a notice, in ``locale``: "The phone number +44 •••• ••3456"."""
    if binding.method in _DESCRIPTIONS:
        return translate(T(_DESCRIPTIONS[binding.method], label=binding.label), locale, extra)
    return binding.label
