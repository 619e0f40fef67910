"""Passkeys: the WebAuthn options of a passkey challenge, checking a registration or an
assertion as that challenge's "code", and naming a passkey.

A passkey challenge is an ordinary challenge of the method ``passkey`` (issued, limited,
verified, consumed like any other). Its WebAuthn challenge is not random on its own: it is
a keyed digest of the stepup challenge's id and operation digest, so an assertion signs
exactly one stepup challenge, and through it exactly one operation; the challenge's single
use makes the assertion single use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .. import _machine
from .._errors import ChallengeClosed, ConfigurationError, InvalidInput, MethodNotAvailable
from .._i18n import T
from .._models import Binding, Challenge
from ..methods import (
    RelyingParty,
    assertion_count,
    authentication_options,
    credential_id_of,
    default_name,
    registration_data,
    registration_options,
)
from ._bindings import binding_view
from ._context import Context
from ._effects import SUBJECT, Flow, update
from ._records import load_challenge, read_subject

__all__ = ["PASSKEY", "passkey_options", "passkey_step", "relying_party", "rename_passkey"]

PASSKEY = "passkey"
Step = Callable[[Challenge, float], _machine.Outcome]


def relying_party(ctx: Context, given: RelyingParty | None) -> RelyingParty:
    """The relying party a ceremony checks against: the one the caller worked out from
    its request, or else the settings' own.

    :raises ConfigurationError: the request's origin is refused, or there is neither.
    """
    if given is not None:
        return given.checked()
    s = ctx.settings
    if not (s.webauthn_rp_id and s.webauthn_origins):
        raise ConfigurationError(
            "Passkeys need a relying party: pass relying_party=, or set STEPUP_WEBAUTHN_RP_ID and "
            "STEPUP_WEBAUTHN_ORIGINS."
        )
    return RelyingParty(s.webauthn_rp_id, s.webauthn_origins, s.app_name)


def _webauthn_challenge(ctx: Context, challenge: Challenge) -> bytes:
    """The bytes an authenticator signs for ``challenge``: bound to its id and to the
    operation it approves."""
    return ctx.keys.digest("webauthn", challenge.id, challenge.operation_digest or "").encode()


def _uv_required(ctx: Context, challenge: Challenge) -> bool:
    return challenge.purpose != "login" or ctx.settings.passkey_login_user_verification == "required"


def _credentials(record: dict[str, Any]) -> list[str]:
    return [b["credential_id"] for b in record.get("bindings", []) if b["method"] == PASSKEY and "credential_id" in b]


def passkey_options(
    ctx: Context,
    challenge_id: str,
    *,
    subject: str | None,
    session: str | None = None,
    relying_party: RelyingParty | None = None,
) -> Flow[dict[str, Any]]:
    """The options a browser passes to ``navigator.credentials.create`` (a ``bind``
    challenge) or ``.get`` (any other) for a pending passkey challenge.

    :param relying_party: the rp id and origins of the caller's request
        (:meth:`RelyingParty.for_request`); the settings' when ``None``.
    :raises InvalidInput: the challenge is not a passkey's.
    :raises ChallengeExpired: it has expired; :class:`ChallengeClosed` it has ended.
    :raises ConfigurationError: no relying party, or a request's origin refused.
    """
    challenge = yield from load_challenge(ctx, challenge_id, subject, session)
    if challenge.method != PASSKEY:
        raise InvalidInput(T("This verification is not made with a passkey."))
    if (closed := _machine.closed_error(challenge, ctx.clock())) is not None:
        raise closed
    rp = _rp(ctx, relying_party)
    record = yield from read_subject(ctx, challenge.subject or "")
    expected, known = _webauthn_challenge(ctx, challenge), _credentials(record)
    if challenge.purpose == "bind":
        user_id = ctx.keys.digest("webauthn-user", challenge.subject or "").encode()[:32]
        return registration_options(
            rp, challenge=expected, user_id=user_id, user_name=challenge.subject or "", exclude=known, uv="required"
        )
    uv = "required" if _uv_required(ctx, challenge) else "preferred"
    return authentication_options(rp, challenge=expected, allow=known, uv=uv)


_rp = relying_party


def passkey_step(
    ctx: Context, challenge: Challenge, response: object, rp: RelyingParty, still_open: bool
) -> Flow[Step]:
    """The transition a passkey response makes of its challenge: a registration passes
    into the challenge's pending binding; an assertion is checked against the subject's
    passkeys, its signature count moved on, atomically."""
    if challenge.purpose == "bind":
        record = yield from read_subject(ctx, challenge.subject or "")
        data = registration_data(rp, challenge=_webauthn_challenge(ctx, challenge), response=response)
        if data is not None and data["credential_id"] in _credentials(record):
            data = None  # the authenticator ignored excludeCredentials: it is bound already

        def bind(ch: Challenge, now: float) -> _machine.Outcome:
            outcome = _machine.evaluate(ch, data is not None, now)
            if data is not None and outcome.challenge is not None and outcome.verdict == "approved":
                pending = dict(ch.pending or {})
                pending.update(data, target=pending.get("target") or default_name(data["aaguid"]))
                return dataclasses.replace(outcome, challenge=outcome.challenge.evolve(pending=pending))
            return outcome

        return bind
    matched = still_open and (yield from _check_assertion(ctx, challenge, response, rp))

    def step(ch: Challenge, now: float) -> _machine.Outcome:
        return _machine.evaluate(ch, matched, now)

    return step


def _check_assertion(ctx: Context, challenge: Challenge, response: object, rp: RelyingParty) -> Flow[bool]:
    """Whether ``response`` is an assertion of one of the subject's passkeys for this
    challenge; its count and last use are stored in the same atomic step. A count that
    did not move on (a cloned authenticator, or a replay) is refused and audited.

    :raises ChallengeClosed: the same response for this challenge was checked already
        (racing submissions): it is not counted as a wrong one.
    """
    credential = credential_id_of(response)
    if credential is None or challenge.subject is None:
        return False
    expected, uv, now = _webauthn_challenge(ctx, challenge), _uv_required(ctx, challenge), ctx.clock()

    def check(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
        bindings = (record or {}).get("bindings", [])
        for i, b in enumerate(bindings):
            if b["method"] != PASSKEY or b.get("credential_id") != credential:
                continue
            count = assertion_count(rp, challenge=expected, response=response, binding=b, uv_required=uv)
            if count is None:
                return record, "wrong"
            stored = int(b.get("sign_count", 0))
            if (count or stored) and count <= stored:
                # The same response for the same challenge, racing in twice, is no clone.
                return record, "again" if b.get("challenge") == challenge.id else "counter"
            used = {**b, "sign_count": count, "last_used": now, "challenge": challenge.id}
            return {**(record or {}), "bindings": [*bindings[:i], used, *bindings[i + 1 :]]}, "ok"
        return record, "wrong"

    verdict = yield from update(ctx, SUBJECT, challenge.subject, check, None)
    if verdict == "again":  # not evaluated twice: the first of the two approves the challenge
        raise ChallengeClosed(T("This passkey's response was used already. Responses work once."))
    if verdict == "counter":
        ctx.emit("passkey_counter_went_back", challenge, detail={"possible": "cloned authenticator"})
    return verdict == "ok"


def rename_passkey(ctx: Context, subject: str, binding_id: str, name: object) -> Flow[Binding]:
    """Give one of the subject's passkeys a new name.

    :raises InvalidInput: a name that is too long or has control characters.
    :raises MethodNotAvailable: no such passkey.
    """
    new_name = ctx.method(PASSKEY).normalize_target(name, ctx.settings) or "Passkey"

    def rename(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        bindings = (record or {}).get("bindings", [])
        for i, b in enumerate(bindings):
            if b["id"] == binding_id and b["method"] == PASSKEY:
                renamed = {**b, "target": new_name}
                return {**(record or {}), "bindings": [*bindings[:i], renamed, *bindings[i + 1 :]]}, renamed
        return record, None

    renamed = yield from update(ctx, SUBJECT, subject, rename, None)
    if renamed is None:
        raise MethodNotAvailable(T("No such passkey. It may have been removed already."))
    ctx.emit("passkey_renamed", None, subject=subject, method=PASSKEY)
    return binding_view(ctx, renamed)
