"""The methods stepup ships: sms, email, totp, recovery, passkey (its ceremonies in
:mod:`._passkey`)."""

from __future__ import annotations

import re
from typing import Any

from .._config import Settings
from .._crypto import Keyring, ascii_code
from .._errors import InvalidInput
from .._i18n import N_, T
from .._otp import new_totp_secret, normalize_recovery_code, totp_match
from .._targets import mask_email, mask_phone, normalize_email, normalize_phone
from ._base import Method, TargetInput

__all__ = ["BUILTIN_METHODS", "EmailMethod", "PasskeyMethod", "RecoveryMethod", "SmsMethod", "TotpMethod"]

_NAME_LIMIT = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _NoData:
    """Shared by methods that enrol nothing up front and check no code against the
    binding (sent codes are checked in their challenge, passkeys by their ceremonies)."""

    def enrol(self, target: str, settings: Settings) -> dict[str, Any]:
        return {}

    def check(
        self, data: dict[str, Any], code: str, now: float, settings: Settings, keys: Keyring
    ) -> dict[str, Any] | None:
        return None


class _Delivered(_NoData):
    """Shared by methods whose code stepup sends: the challenge holds the code's digest."""

    name = ""
    channel: str | None = None


class SmsMethod(_Delivered):
    """A code by SMS to a bound mobile number."""

    name = "sms"
    channel = "sms"
    title = N_("Text message")
    target_input = TargetInput(
        N_("Mobile number"), type="tel", autocomplete="tel", placeholder="+44 7400 123456",
        hint=N_("Include the country code, e.g. +44 for the UK."), heading=N_("Add a phone"),
    )  # fmt: skip

    def normalize_target(self, raw: object, settings: Settings) -> str:
        return normalize_phone(raw, settings)

    def label(self, target: str) -> str:
        return mask_phone(target)


class EmailMethod(_Delivered):
    """A code by email to a bound address."""

    name = "email"
    channel = "email"
    title = N_("Email")
    target_input = TargetInput(N_("Email address"), type="email", autocomplete="email", heading=N_("Add an email"))

    def normalize_target(self, raw: object, settings: Settings) -> str:
        return normalize_email(raw)

    def label(self, target: str) -> str:
        return mask_email(target)


class _Held:
    """Shared by methods whose code the user's device or paper makes."""

    name = ""
    channel: str | None = None
    _label = ""

    def normalize_target(self, raw: object, settings: Settings) -> str:
        if raw not in (None, ""):
            raise InvalidInput(T("{method} takes no target.", method=self.name))
        return ""

    def label(self, target: str) -> str:
        return self._label


class TotpMethod(_Held):
    """A code from an authenticator app (RFC 6238), each time step accepted once."""

    name = "totp"
    title = N_("Authenticator app")
    _label = N_("authenticator app")

    def enrol(self, target: str, settings: Settings) -> dict[str, Any]:
        return {"secret": new_totp_secret(), "last_step": -1}

    def check(
        self, data: dict[str, Any], code: str, now: float, settings: Settings, keys: Keyring
    ) -> dict[str, Any] | None:
        digits = ascii_code(code)
        if digits is None or len(digits) != settings.totp_digits:
            return None
        step = totp_match(
            data["secret"], digits, now, period=settings.totp_period, digits=settings.totp_digits,
            drift=settings.totp_drift, last_step=int(data.get("last_step", -1)),
        )  # fmt: skip
        return None if step is None else {**data, "last_step": step}


class RecoveryMethod(_Held):
    """Single-use recovery codes, kept as keyed digests."""

    name = "recovery"
    title = N_("Recovery code")
    _label = N_("recovery codes")

    def enrol(self, target: str, settings: Settings) -> dict[str, Any]:
        return {"codes": []}

    def check(
        self, data: dict[str, Any], code: str, now: float, settings: Settings, keys: Keyring
    ) -> dict[str, Any] | None:
        normalized = normalize_recovery_code(code)
        if normalized is None:
            return None
        remaining: list[str] = []
        matched = False
        for digest in data.get("codes", []):
            # Every digest is compared, so the time taken does not tell which code matched.
            hit = keys.matches(digest, "recovery", data["id"], normalized)
            if hit and not matched:
                matched = True
            else:
                remaining.append(digest)
        return {**data, "codes": remaining} if matched else None


class PasskeyMethod(_NoData):
    """A passkey: a WebAuthn credential on the user's device or in their password
    manager. A subject may hold several, each with a name."""

    name = "passkey"
    channel: str | None = None
    title = N_("Passkey")
    #: a subject may bind several: a new one is added beside the others.
    several = True

    def normalize_target(self, raw: object, settings: Settings) -> str:
        """A passkey's name as typed (empty: named after its authenticator).

        :raises InvalidInput: not text, too long, or with control characters.
        """
        if raw is None:
            return ""
        if not isinstance(raw, str) or len(raw.strip()) > _NAME_LIMIT or _CONTROL.search(raw):
            raise InvalidInput(T("A passkey's name is text of at most {n} characters.", n=_NAME_LIMIT))
        return " ".join(raw.split())

    def label(self, target: str) -> str:
        return target or "Passkey"


BUILTIN_METHODS: dict[str, Method] = {
    m.name: m for m in (SmsMethod(), EmailMethod(), TotpMethod(), RecoveryMethod(), PasskeyMethod())
}
