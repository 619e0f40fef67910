"""One-time passwords made on the user's side: TOTP (RFC 6238) and recovery codes.

pyotp makes the codes; stepup adds what ``pyotp.TOTP.verify`` leaves out: each time step
is accepted once per binding (RFC 6238 section 5.2), every candidate step is compared in
constant time, and recovery codes are kept only as keyed digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import pyotp
import segno

from ._crypto import Keyring
from ._errors import InvalidInput
from ._i18n import T

__all__ = [
    "check_totp_secret",
    "new_recovery_codes",
    "new_totp_secret",
    "recovery_digest",
    "normalize_recovery_code",
    "provisioning_uri",
    "qr_svg",
    "totp_at_step",
    "totp_match",
]

# 31 characters without look-alikes (no 0/o, 1/l/i); 12 of them carry 59 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 12
_RECOVERY_SEPARATORS = str.maketrans("", "", " -")


def new_totp_secret() -> str:
    """A TOTP secret of 160 bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def check_totp_secret(secret: object) -> str:
    """An existing TOTP secret (an import, a demo user), checked before it is stored.

    Authenticator apps in the field hold secrets of 80 bits (16 base32 characters) and
    more; stepup makes 160-bit secrets itself and refuses anything under 80 bits, or not
    base32, so a mistyped secret is not bound only to fail at every later sign-in.

    :param secret: base32, spaces and case ignored.
    :raises InvalidInput: when it is not base32 or shorter than 80 bits.
    """
    text = secret.replace(" ", "").upper() if isinstance(secret, str) else ""
    try:
        raw = _decode_secret(text)
    except ValueError as e:  # binascii.Error is a ValueError too
        raise InvalidInput(T("A TOTP secret is base32 of at least 80 bits (stepup makes 160).")) from e
    if len(raw) < 10:
        raise InvalidInput(T("A TOTP secret is base32 of at least 80 bits (stepup makes 160)."))
    return text


def _decode_secret(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def totp_at_step(secret: str, step: int, digits: int) -> str:
    """The TOTP code of one time step.

    :param secret: base32 secret.
    :param step: the time step (Unix time // period).
    :param digits: 6 to 8.
    """
    # RFC 4226 section 5.3 (HOTP of the step, dynamic truncation). pyotp's TOTP class
    # would refuse the 80-bit secrets that many authenticator apps already hold.
    mac = hmac.new(_decode_secret(secret), step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_match(
    secret: str, code: str, now: float, *, period: int, digits: int, drift: int, last_step: int
) -> int | None:
    """The time step ``code`` belongs to, or ``None``.

    Steps from ``drift`` before to ``drift`` after now are tried, every one of them, and a
    step at or before ``last_step`` (already used) never matches.

    :param secret: base32 secret.
    :param code: ASCII digits.
    :param now: the current Unix time.
    :param period: seconds per step.
    :param digits: code length.
    :param drift: steps accepted each way.
    :param last_step: the last step accepted for this binding.
    """
    current = int(now // period)
    found: int | None = None
    for step in range(current - drift, current + drift + 1):
        candidate = totp_at_step(secret, step, digits)
        if hmac.compare_digest(candidate.encode(), code.encode()) and step > last_step and found is None:
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str, *, digits: int, period: int) -> str:
    """The ``otpauth://`` URI authenticator apps read.

    :param secret: base32 secret.
    :param account: the name shown in the app (the user's login).
    :param issuer: the app's name.
    """
    return pyotp.TOTP(secret, digits=digits, interval=period).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(data: str) -> str:
    """``data`` as an inline SVG QR code, ready to put in a page."""
    return str(segno.make(data, error="m").svg_inline(scale=5, dark="#111", light="#fff"))


def new_recovery_codes(count: int) -> list[str]:
    """``count`` fresh recovery codes, 59 random bits each, written ``xxxx-xxxx-xxxx``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def normalize_recovery_code(raw: object) -> str | None:
    """A recovery code as typed, reduced to its characters; ``None`` if it cannot be one."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    code = raw.translate(_RECOVERY_SEPARATORS).lower()
    if len(code) != _RECOVERY_LENGTH or not set(code) <= set(_RECOVERY_ALPHABET):
        return None
    return code


def recovery_digest(keys: Keyring, binding_id: str, code: str) -> str:
    """The keyed digest a recovery code is kept as.

    :param keys: the app's keyring.
    :param binding_id: the recovery binding, so equal codes of two users differ.
    :param code: a normalised recovery code.
    """
    return keys.digest("recovery", binding_id, code)
