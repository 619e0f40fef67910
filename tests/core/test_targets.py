"""Where codes go: phone numbers and email addresses checked, normalised and masked."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

import stepup
from stepup import Settings
from stepup._targets import mask_email, mask_phone, normalize_email, normalize_phone

DEFAULTS = Settings()
FR_MOBILE = "+33 6 12 34 56 78"
GB_VOIP = phonenumbers.format_number(
    phonenumbers.example_number_for_type("GB", PhoneNumberType.VOIP), phonenumbers.PhoneNumberFormat.E164
)
FR_SHARED_COST = phonenumbers.format_number(
    phonenumbers.example_number_for_type("FR", PhoneNumberType.SHARED_COST), phonenumbers.PhoneNumberFormat.E164
)


def refused(raw: object, settings: Settings = DEFAULTS) -> str:
    """The reason ``raw`` is refused, after checking the message is a sentence."""
    with pytest.raises(stepup.InvalidPhoneNumber) as e:
        normalize_phone(raw, settings)
    assert e.value.message and e.value.message.endswith(".")
    assert e.value.status == 422
    return e.value.reason


@pytest.mark.parametrize("raw", ["+44 7400 123456", "+447400123456", " +44 (0)7400-123.456 ", "+44 7400 123456\n"])
def test_uk_mobile_is_normalised(raw: str) -> None:
    assert normalize_phone(raw, DEFAULTS) == "+447400123456"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("+44 7700 900001", "invalid"),
        ("+44 909 879 0000", "premium_rate"),
        (FR_SHARED_COST, "shared_cost"),
        ("+44 20 7946 0000", "type"),
        ("+44 7400 HELLO1", "format"),
        ("+" + "4" * 799, "format"),
        ("+４４ ７４００ １２３４５６", "format"),
        ("+44 7400\n123456", "format"),
        ("+", "format"),
        ("", "format"),
        ("   ", "format"),
        (None, "format"),
        (447400123456, "format"),
    ],
)
def test_refused_numbers(raw: object, reason: str) -> None:
    assert refused(raw) == reason


def test_regions() -> None:
    assert normalize_phone(FR_MOBILE, DEFAULTS) == "+33612345678"
    assert refused(FR_MOBILE, Settings(sms_allowed_regions=frozenset({"GB"}))) == "region"
    assert refused(FR_MOBILE, Settings(sms_denied_regions=frozenset({"FR"}))) == "region"
    assert normalize_phone("+447400123456", Settings(sms_denied_regions=frozenset({"FR"}))) == "+447400123456"


def test_voip_refused_only_when_asked() -> None:
    assert normalize_phone(GB_VOIP, DEFAULTS) == GB_VOIP
    assert refused(GB_VOIP, Settings(sms_refuse_voip=True)) == "voip"


def test_national_numbers_need_a_default_region() -> None:
    assert refused("07400 123456") == "format"
    assert normalize_phone("07400 123456", Settings(default_region="GB")) == "+447400123456"
    assert normalize_phone("+33 6 12 34 56 78", Settings(default_region="GB")) == "+33612345678"


def test_test_number_prefixes_skip_validation() -> None:
    settings = Settings(test_number_prefixes=("+447700900",))
    assert normalize_phone("+44 7700 900001", settings) == "+447700900001"
    assert refused("+447700900001", Settings(test_number_prefixes=("+447700901",))) == "invalid"


def test_engine_refuses_a_bad_number_before_sending(engine_factory, sms) -> None:  # type: ignore[no-untyped-def]
    engine = engine_factory()
    with pytest.raises(stepup.InvalidPhoneNumber) as e:
        engine.begin_bind("bob", "sms", "+44 909 879 0000")
    assert e.value.reason == "premium_rate" and sms.outbox == []


# -- email -------------------------------------------------------------------------------------


def test_email_domain_is_lower_cased() -> None:
    assert normalize_email(" Alice@Example.COM ") == "Alice@example.com"


@pytest.mark.parametrize(
    "raw", ["not-an-email", "alice@", "@example.com", "alice@example", "a b@example.com", "", None, 42,
            "a" * 250 + "@example.com", "alice@" + "x" * 300 + ".com", "ali\x00ce@example.com"],
)  # fmt: skip
def test_invalid_email(raw: object) -> None:
    with pytest.raises(stepup.InvalidEmail) as e:
        normalize_email(raw)
    assert e.value.message and e.value.message.endswith(".")


# -- masking -------------------------------------------------------------------------------------


def test_mask_phone() -> None:
    masked = mask_phone("+447700900001")
    assert masked.startswith("+44") and masked.endswith("0001")
    assert "7700" not in masked and "900" not in masked
    assert sum(c.isdigit() for c in masked) == len("44") + len("0001")


def test_mask_email() -> None:
    assert mask_email("alice@example.com") == "a•••@example.com"
    assert "lice" not in mask_email("alice@example.com")
