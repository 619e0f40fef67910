"""The records stepup keeps and hands out: challenges, bindings, messages, audit events.

Records travel to and from stores as plain JSON-able dicts (:meth:`Challenge.to_record`),
so every store keeps the same thing and no store pickles.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "PURPOSES",
    "Approval",
    "AuditEvent",
    "Binding",
    "Challenge",
    "ChallengeState",
    "Message",
    "NextEvent",
    "Purpose",
    "written_out",
]

Purpose = Literal["login", "step_up", "operation", "bind", "contact"]
ChallengeState = Literal["pending", "approved", "expired", "exhausted", "cancelled"]
PURPOSES: frozenset[str] = frozenset({"login", "step_up", "operation", "bind", "contact"})


@dataclass(frozen=True, slots=True)
class NextEvent:
    """A challenge's next workflow step: its channel and when it is due.

    :ivar channel: ``sms``, ``voice`` or ``email``.
    :ivar at: the Unix time it is due (it fires then by a worker, or on request).
    """

    channel: str
    at: float


@dataclass(frozen=True, slots=True)
class Challenge:
    """One pending (or ended) verification.

    The code digest and any secret waiting to be bound stay inside stepup; callers see
    them only as ``has_code``.
    """

    id: str
    subject: str | None
    method: str
    #: E.164 phone, email, or the id of a TOTP / recovery binding.
    target: str
    purpose: Purpose
    created_at: float
    expires_at: float
    attempts_left: int
    sends_left: int
    state: ChallengeState = "pending"
    code_digest: str | None = None
    last_sent_at: float | None = None
    #: what an operation approval approves, in words ("transfer of 50.00 to bob").
    operation: str | None = None
    operation_digest: str | None = None
    #: the saved original request (method, path, query, content type, body) to replay.
    request: dict[str, Any] | None = None
    #: a digest of the session that started the challenge.
    session: str | None = None
    #: what waits to be bound when the code passes (verify before bind).
    pending: dict[str, Any] | None = None
    approved_at: float | None = None
    consumed: bool = False
    #: the app (blueprint or mount) and route that asked, for policy and audit.
    app: str | None = None
    route: str | None = None
    #: the subject's bound email address a code goes to when no SMS can be sent
    #: (``fallback_to_email``); kept inside stepup.
    fallback: str | None = None
    #: the method first chosen, when the code went by another one instead (``sms``).
    fallback_from: str | None = None
    #: the methods the protected route accepts (``None``: any): a code falls back only to
    #: one of them, and an operation approval counts only when given by one of them.
    accepts: list[str] | None = None
    #: what to tell the user when the code went an unusual way, e.g. "Your code could not
    #: be sent by text message, so it went by email to k•••@example.com instead."
    notice: str | None = None
    #: the language its messages go in (the subject's stored preference, else the
    #: locale of the request that started it); ``None``: ``default_locale``.
    locale: str | None = None
    #: a workflow's steps, ``[channel, seconds to the next]`` each (``None``: one send).
    steps: list[list[Any]] | None = None
    #: the index of the last step fired (the first is sent when the challenge is made).
    step: int = 0
    #: when the next step is due (``None``: none is).
    next_at: float | None = None
    #: the random seed a workflow's code is made from with the app's key; kept inside stepup.
    seed: str | None = None
    #: the key of its login's record of kind ``ended`` (a keyed digest of the session's
    #: nonce before any renewal, not the nonce): a logout ends the challenge for anyone
    #: who reaches it without the session too, e.g. a worker firing its workflow's steps.
    login_key: str | None = None

    # to_record, evolve and from_record are written out field by field below, as
    # dataclasses writes __init__: each step of a challenge reads, copies and writes it,
    # and a loop over its fields cost more than the step's code check.

    def to_record(self) -> dict[str, Any]:
        """The challenge as a JSON-able dict for a store. Fields at their default are left
        out (:meth:`from_record` puts them back): a store may keep a million pending
        challenges, and reads and writes the whole record on each step of one."""
        raise NotImplementedError  # replaced below

    def evolve(self, **changes: Any) -> Challenge:
        """A copy with ``changes``.

        :raises TypeError: for a name that is not a field.
        """
        raise NotImplementedError  # replaced below

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Challenge:
        """The challenge a store kept.

        :param record: a dict made by :meth:`to_record`.
        :raises TypeError: for a record with a field missing or unknown.
        """
        raise NotImplementedError  # replaced below

    @property
    def next_event(self) -> NextEvent | None:
        """The workflow's next step and when it is due, or ``None`` when none will fire
        (no workflow, the last step fired, no send left, or the challenge ended)."""
        steps, at = self.steps, self.next_at
        if self.state != "pending" or not steps or at is None or self.step + 1 >= len(steps) or self.sends_left <= 0:
            return None
        return NextEvent(str(steps[self.step + 1][0]), at)

    def seconds_left(self, now: float) -> int:
        """Whole seconds until the challenge expires (0 once it has)."""
        return max(0, int(self.expires_at - now + 0.999))

    def resend_in(self, now: float, cooldown: float) -> int:
        """Whole seconds until a resend is allowed (0 when it is)."""
        if self.last_sent_at is None:
            return 0
        return max(0, int(self.last_sent_at + cooldown - now + 0.999))


def written_out(cls: type) -> dict[str, Any]:
    """``to_record``, ``evolve`` and ``from_record`` of a frozen, slotted dataclass, each
    written out field by field (the fields' defaults are ``None``, strings, numbers or
    booleans, written as literals)."""
    fields = dataclasses.fields(cls)
    known = {f.name for f in fields}
    glob: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_KEEP": _KEEP, "_known": known}
    for f in fields:
        glob[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    optional = [f for f in fields if f.default is not dataclasses.MISSING]
    for f in optional:
        if type(f.default) not in (type(None), str, int, float, bool):
            raise TypeError(f"{cls.__name__}.{f.name}: a default written as a literal must be a constant")
    lines = ["def to_record(self):", "    r = {" + ", ".join(f"{n!r}: self.{n}" for n in required) + "}"]
    for f in optional:
        lines += [f"    if self.{f.name} != {f.default!r}:", f"        r[{f.name!r}] = self.{f.name}"]
    lines += ["    return r", ""]
    lines += ["def evolve(self, *, " + ", ".join(f"{f.name}=_KEEP" for f in fields) + "):", "    new = _new(_cls)"]
    lines += [f"    _set_{f.name}(new, self.{f.name} if {f.name} is _KEEP else {f.name})" for f in fields]
    lines += ["    return new", ""]
    lines += [
        "def from_record(cls, r):",
        "    if not r.keys() <= _known:",
        "        raise TypeError(f'unknown fields {sorted(r.keys() - _known)}')",
    ]
    lines += ["    new = _new(cls)", "    try:"]
    lines += [f"        _set_{n}(new, r[{n!r}])" for n in required]
    lines += ["    except KeyError as e:", "        raise TypeError(f'missing field {e}') from e"]
    lines += [f"    _set_{f.name}(new, r.get({f.name!r}, {f.default!r}))" for f in optional]
    lines += ["    return new"]
    functions: dict[str, Any] = {}
    exec("\n".join(lines), glob, functions)  # noqa: S102 (the text is built from the class's own fields)
    return functions


_KEEP: Any = object()
for _name, _function in written_out(Challenge).items():
    _function.__doc__ = getattr(Challenge, _name).__doc__
    _function.__qualname__ = f"Challenge.{_name}"
    setattr(Challenge, _name, classmethod(_function) if _name == "from_record" else _function)
del _name, _function


@dataclass(frozen=True, slots=True)
class Binding:
    """A subject's enrolled method, as callers see it: no secret, no digests."""

    id: str
    method: str
    #: the target masked for display, e.g. ``+44 •••• ••0001``.
    label: str
    created_at: float
    #: recovery codes not yet used (recovery bindings only).
    remaining: int | None = None
    #: when a code of it last passed (``None``: not since this was recorded).
    last_used: float | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    """What a passed challenge earns."""

    challenge_id: str
    subject: str | None
    method: str
    purpose: Purpose
    approved_at: float
    target: str
    operation_digest: str | None = None
    #: whether a saved request waits to be replayed with :meth:`Engine.consume`.
    has_request: bool = False
    #: the binding made, for a ``bind`` challenge.
    binding: Binding | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message for a sender.

    :ivar channel: ``sms``, ``email``, ``voice`` or a plug-in's channel.
    :ivar to: E.164 number or email address.
    :ivar subject: the email subject (empty for SMS).
    :ivar body: the text; for ``voice``, what the call says, its parts (paragraphs split
        by a blank line) read with a pause between them.
    :ivar purpose: what it is for; senders may route on it.
    :ivar locale: the message's language (``pt_BR``), so a voice sender picks the voice
        that reads it; empty when not known.
    """

    channel: str
    to: str
    body: str
    subject: str = ""
    purpose: str = ""
    html: str = ""
    locale: str = ""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Something that happened, safe to log: targets masked, never a code or a secret.

    ``type`` is one of ``issued``, ``sent``, ``delivery_failed``, ``verified``, ``failed``,
    ``exhausted``, ``expired``, ``cancelled``, ``locked``, ``rate_limited``, ``bound``,
    ``unbound``, ``reset``, ``unlocked``, ``policy_changed`` (``subject`` is the admin, when
    one made it on the admin page), ``login_refused`` (``detail["reason"]``), ``login_passed``,
    ``step_up_passed``, ``approval_used``, ``browser_remembered``, ``browser_used``,
    ``browser_forgotten``, ``challenges_ended``, ``admin_viewed`` (a support console look),
    ``admin_action`` (``detail["action"]``) and ``step_skipped`` (a workflow's step with
    nowhere to go; ``detail["channel"]``).

    ``actor`` is the administrator who made a change to ``subject`` on the support console;
    ``context`` the request it came with (``client``, ``user_agent``, ``app``, ``route``).
    """

    type: str
    at: float
    subject: str | None = None
    method: str | None = None
    target: str | None = None
    purpose: str | None = None
    challenge_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    context: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The event as a JSON-able dict (written out: ``dataclasses.asdict`` deep-copies
        every value, and an event is turned into a dict each time it is stored)."""
        return {
            "type": self.type, "at": self.at, "subject": self.subject, "method": self.method,
            "target": self.target, "purpose": self.purpose, "challenge_id": self.challenge_id,
            "detail": dict(self.detail), "actor": self.actor, "context": dict(self.context),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class BindStart:
    """A binding waiting for its first code (verify before bind).

    :ivar challenge: verify it with the code sent to the new target, or the first code
        of the authenticator app.
    :ivar provisioning_uri: for TOTP, the ``otpauth://`` URI to show as a QR code.
    :ivar qr_svg: for TOTP, that URI as an inline SVG QR code.
    :ivar secret: for TOTP, the base32 secret for typing in by hand.
    """

    challenge: Challenge
    provisioning_uri: str | None = None
    qr_svg: str | None = None
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class LoginDecision:
    """What a login needs, as the policy and the subject's bindings say.

    :ivar required: a second factor is needed before the session is fully logged in.
    :ivar bindings: the bound methods the subject may use now.
    :ivar must_bind: nothing usable is bound: the user binds a method first.
    :ivar bind_methods: the methods the user may bind.
    :ivar refused: why the login cannot go on (a :class:`~stepup.SignInRefused` reason,
        ``methods_off`` or ``nothing_bound``), or ``None``.
    """

    required: bool
    bindings: tuple[Binding, ...] = ()
    must_bind: bool = False
    bind_methods: tuple[str, ...] = ()
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class ContactResult:
    """A passed contact verification: this person controls ``to``."""

    request_id: str
    channel: str
    to: str
    verified_at: float
