"""Where codes go: phone numbers and email addresses, checked, normalised and masked.

Numbers are parsed with ``phonenumbers`` and kept in E.164. Only types that can take an
SMS pass; premium-rate and shared-cost numbers, the usual targets of SMS pumping, are
refused with a reason a person can act on, and so are non-geographic numbers (satellite
phones, international networks: region ``001``) unless ``sms_allow_non_geographic`` is on.

Limits and failure records key a target by :func:`limit_target`, one key for every
spelling that reaches the same mailbox; messages go to the address as it was given.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

from ._config import Settings
from ._errors import InvalidEmail, InvalidPhoneNumber
from ._i18n import N_, T

__all__ = ["limit_target", "mask_email", "mask_phone", "normalize_email", "normalize_phone", "sms_region"]

_MAX_PHONE_INPUT = 32
_MAX_EMAIL_INPUT = 254
# What people type around the digits of a number; letters (vanity numbers) are refused.
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-]+$")
_SMS_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_REFUSED = {
    PhoneNumberType.PREMIUM_RATE: ("premium_rate", N_("Premium-rate numbers cannot receive codes.")),
    PhoneNumberType.SHARED_COST: ("shared_cost", N_("Shared-cost numbers cannot receive codes.")),
    PhoneNumberType.VOIP: ("voip", N_("Internet (VoIP) numbers cannot receive codes here.")),
}
_DOT = "\u2022"
#: the region phonenumbers gives numbers of no country (Iridium +8816, Inmarsat +870...).
_NON_GEOGRAPHIC = "001"


def normalize_phone(raw: object, settings: Settings) -> str:
    """The number in E.164 if stepup may send SMS to it.

    :param raw: what the user typed.
    :param settings: regions, VoIP rule and test prefixes.
    :raises InvalidPhoneNumber: with ``reason`` ``format``, ``invalid``, ``type``,
        ``premium_rate``, ``shared_cost``, ``voip``, ``non_geographic`` or ``region``.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber(T("Enter a phone number, starting with + and the country code."), "format")
    text = raw.strip()
    if len(text) > _MAX_PHONE_INPUT or not _PHONE_CHARS.match(text):
        raise InvalidPhoneNumber(T("A phone number has only digits, spaces and an optional leading +."), "format")
    compact = "+" + re.sub(r"\D", "", text) if text.startswith("+") else ""
    if compact and any(compact.startswith(p) for p in settings.test_number_prefixes):
        return compact
    if not text.startswith("+") and not settings.default_region:
        raise InvalidPhoneNumber(T("Start the number with + and the country code, e.g. +44."), "format")
    try:
        number = phonenumbers.parse(text, settings.default_region or None)
    except phonenumbers.NumberParseException as e:
        raise InvalidPhoneNumber(T("That is not a phone number we can read."), "format") from e
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(T("That phone number does not exist. Check the digits."), "invalid")
    kind = phonenumbers.number_type(number)
    if kind in _REFUSED and (kind != PhoneNumberType.VOIP or settings.sms_refuse_voip):
        reason, message = _REFUSED[kind]
        raise InvalidPhoneNumber(T(message), reason)
    if kind not in _SMS_TYPES and kind != PhoneNumberType.VOIP:
        raise InvalidPhoneNumber(T("That number cannot receive text messages. Use a mobile number."), "type")
    region = phonenumbers.region_code_for_number(number) or ""
    if region == _NON_GEOGRAPHIC and not settings.sms_allow_non_geographic:
        raise InvalidPhoneNumber(
            T("Satellite and other non-geographic numbers cannot receive codes. Use a mobile number."),
            "non_geographic",
        )
    if region in settings.sms_denied_regions or (
        settings.sms_allowed_regions and region not in settings.sms_allowed_regions
    ):
        raise InvalidPhoneNumber(T("We cannot send text messages to numbers in that country."), "region")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Parsing and formatting a number with phonenumbers takes tens of microseconds; every
# challenge needs the region (limits, routes) and the mask (audit events) of its number
# several times, and the same people come back, so both are remembered per number.
_CACHED_NUMBERS = 65536


@functools.lru_cache(maxsize=_CACHED_NUMBERS)
def sms_region(e164: str) -> str:
    """The ISO region of an E.164 number, or its country calling code when unknown."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "unknown"
    return phonenumbers.region_code_for_number(number) or f"+{number.country_code}"


def normalize_email(raw: object) -> str:
    """The address, syntax checked and normalised (domain lower case, Unicode NFC).

    :param raw: what the user typed.
    :raises InvalidEmail: when it is not a well-formed address.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidEmail(T("Enter an email address."))
    if len(raw) > _MAX_EMAIL_INPUT or "\x00" in raw:
        raise InvalidEmail(T("That email address is too long."))
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as e:
        raise InvalidEmail(T("That email address is not valid: {reason}", reason=e)) from e
    return str(result.normalized)


def limit_target(target: str) -> str:
    """The key of a number or address for limits and failure records.

    An email address is case-folded whole: RFC 5321 lets the local part be
    case-sensitive, but mail providers deliver ``Victim@`` and ``victim@`` to one
    mailbox, so a limit that told them apart could be walked around by changing case. A
    phone number is already one string (E.164).
    """
    return target.casefold() if "@" in target else target


@functools.lru_cache(maxsize=_CACHED_NUMBERS)
def mask_phone(e164: str) -> str:
    """A number as users see it when it is not theirs to read: ``+44 •••• ••0001``."""
    try:
        number = phonenumbers.parse(e164, None)
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        prefix = f"+{number.country_code}"
    except phonenumbers.NumberParseException:
        shown, prefix = e164, e164[:3]
    head, rest = shown[: len(prefix)], shown[len(prefix) :]
    digits = sum(c.isdigit() for c in rest)
    keep = min(4, digits)
    out: list[str] = []
    seen = 0
    for c in rest:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits - keep else _DOT)
        else:
            out.append(" " if c in " -" else c)
    return head + "".join(out)


def mask_email(address: str) -> str:
    """An address masked for display and logs: ``a•••@example.com``."""
    local, _, domain = address.rpartition("@")
    if not local:
        return _DOT * 3
    return f"{local[0]}{_DOT * 3}@{domain}"
