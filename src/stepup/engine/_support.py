"""The support console's view of one subject and the changes it makes: what an
administrator needs to help a user who lost a phone or locked themselves out.

A subject's pending challenges are found through their index
(:mod:`stepup.engine._open`). Each look is audited as ``admin_viewed`` and each change as
``admin_action``, with the administrator as ``actor``; a change of the subject's methods is told on the channels
they still have (and, for a reset of every method, on the ones removed: a person who did
not ask support for it learns of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import _machine
from .._errors import InvalidInput
from .._i18n import T
from .._models import AuditEvent, Binding, Challenge, Message
from ._bindings import binding_view, unbind
from ._context import Context
from ._devices import RememberedBrowser, devices, forget_devices
from ._effects import FAILURES, SUBJECT, Flow, delete, get_many, send
from ._keys import failure_key
from ._locale import set_locale
from ._locks import unlock
from ._open import pending_challenges
from ._records import read_subject, transition
from ._trail import audit_events

__all__ = [
    "ACTIONS", "LockState", "SubjectOverview", "subject_overview", "support_action",
]  # fmt: skip

#: events the console shows of a subject.
_EVENTS_SHOWN = 50

ACTIONS: tuple[str, ...] = ("unlock", "reset_method", "reset_all", "forget_browsers", "end_challenges")


@dataclass(frozen=True, slots=True)
class LockState:
    """A method's wrong codes in a row, its back-off and lock."""

    method: str
    failures: int
    locked: bool
    backoff_until: float | None


@dataclass(frozen=True, slots=True)
class SubjectOverview:
    """What the console shows of one subject: nothing secret, targets masked."""

    subject: str
    bindings: list[Binding]
    last_used: dict[str, float]
    locks: list[LockState]
    pending: list[Challenge]
    browsers: list[RememberedBrowser]
    events: list[AuditEvent]


def subject_overview(ctx: Context, subject: str, *, by: str | None = None) -> Flow[SubjectOverview]:
    """Everything the console shows of ``subject``.

    :param by: the administrator looking, audited as ``admin_viewed`` with them as
        ``actor`` (after the events shown are read, so a look is not in its own page):
        who read whose sign-in methods is on record like every change. A subject with
        no record and no events is not audited: nothing of theirs was read.
    """
    record = yield from read_subject(ctx, subject)
    stored = record.get("bindings", [])
    names = sorted(ctx.methods)
    failures = yield from get_many(ctx, [(FAILURES, failure_key(m, subject, "")) for m in names])
    locks = [
        LockState(m, int(f.get("count", 0)), bool(f.get("locked")), f.get("until"))
        for m, f in zip(names, failures, strict=True) if f
    ]  # fmt: skip
    pending = yield from pending_challenges(ctx, subject)
    browsers = yield from devices(ctx, subject)
    events = yield from audit_events(ctx, subject, limit=_EVENTS_SHOWN)
    if by is not None and (stored or events):
        # Only a subject stepup knows: a look at a made-up id (typed, or sent by a link
        # another site opened in the admin's browser) must not make a trail of its own.
        ctx.emit("admin_viewed", None, subject=subject, actor=by)
    return SubjectOverview(
        subject, [binding_view(ctx, b) for b in stored], {b["id"]: b["last_used"] for b in stored if "last_used" in b},
        locks, pending, browsers, events[::-1],
    )  # fmt: skip


def support_action(
    ctx: Context, subject: str, action: str, *, by: str, binding_id: str | None = None, method: str | None = None
) -> Flow[int]:
    """Make one change to ``subject`` on an administrator's behalf, audited with ``by``.

    :param action: ``unlock`` (``method``, or every method), ``reset_method`` (the
        binding ``binding_id``), ``reset_all`` (every binding and lock: a lost phone),
        ``forget_browsers``, ``end_challenges``.
    :returns: how many things changed (bindings removed, challenges ended...).
    :raises InvalidInput: an unknown action, or ``reset_method`` without a binding.
    :raises MethodNotAvailable: no such binding.
    """
    count = 1
    if action == "unlock":
        yield from unlock(ctx, subject, ctx.method(method).name if method else None)
    elif action == "reset_method":
        if not binding_id:
            raise InvalidInput(T("Choose the sign-in method to remove."))
        yield from unbind(ctx, subject, binding_id)  # tells the channels left
    elif action == "reset_all":
        count = yield from _reset_all(ctx, subject)
    elif action == "forget_browsers":
        count = len((yield from devices(ctx, subject)))
        yield from forget_devices(ctx, subject)
    elif action == "end_challenges":
        count = yield from _end_challenges(ctx, subject)
    else:
        known, asked = ", ".join(ACTIONS), repr(action)
        raise InvalidInput(T("Unknown action {action}; the console knows {actions}.", action=asked, actions=known))
    detail: dict[str, Any] = {"action": action, "count": count}
    if action == "reset_method":
        detail["binding"] = binding_id
    ctx.emit("admin_action", None, subject=subject, actor=by, method=method, detail=detail)
    return count


def _reset_all(ctx: Context, subject: str) -> Flow[int]:
    """Remove every binding and lift every lock; tell the channels that were bound."""
    record = yield from read_subject(ctx, subject)
    bound = record.get("bindings", [])
    stored = record.get("locale")
    yield from delete(ctx, SUBJECT, subject)
    if isinstance(stored, str):  # the methods go, the language the user chose stays
        yield from set_locale(ctx, subject, stored)
    yield from unlock(ctx, subject)
    yield from _end_challenges(ctx, subject)
    ctx.emit("reset", None, subject=subject, detail={"bindings": len(bound)})
    locale = stored if isinstance(stored, str) else ctx.settings.default_locale
    for b in bound:
        channel = ctx.methods[b["method"]].channel if b["method"] in ctx.methods else None
        if channel:
            title, body = ctx.messages.notice("reset", "", locale, channel)
            try:
                yield from send(
                    ctx, channel, Message(channel, b["target"], body, title if channel == "email" else "", "notice")
                )
            except Exception:  # best effort, whatever the sender raised
                ctx.emit("delivery_failed", None, subject=subject, method=b["method"], detail={"reason": "notice"})
    return len(bound)


def _end_challenges(ctx: Context, subject: str) -> Flow[int]:
    """Cancel every pending challenge of ``subject``; their codes stop working."""
    ended = 0
    for challenge in (yield from pending_challenges(ctx, subject)):
        outcome = yield from transition(ctx, challenge, _machine.cancel, ctx.clock())
        if outcome.error is None and outcome.verdict == "cancelled":
            ended += 1
            ctx.emit("cancelled", outcome.challenge)
    return ended
