"""SMS pumping: getting the app to text premium-rate, shared-cost or far-away numbers (whose
operators share the fee), or many numbers, through every door a number comes in by: the
bind page, the bind API, and contact verification (no sign-in needed there). Nothing is
sent to such a number, and sends are limited per number, per number range and per country.
"""

from __future__ import annotations

import pytest

from tests.support.banks import CONTACT_VERIFICATION, PARALLEL_CONTACT
from tests.support.flows import held

REFUSED = {
    "premium_rate": "+44 909 879 0000",
    "shared_cost": "+33 810 12 34 56",
    "region": "+33 6 12 34 56 78",  # a French mobile; this bank texts only the UK
    "denied": "+49 151 23456789",  # a German mobile, in a region denied outright
}
GB_ONLY = {"STEPUP_SMS_ALLOWED_REGIONS": "GB,FR", "STEPUP_SMS_DENIED_REGIONS": "DE"}


def _door(bank, door, number):
    """Offer ``number`` through one door; the answer and whether it was a page."""
    if door == "contact api":
        return bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": number})
    browser = held(bank, "bob")  # nothing bound: binds at first login, no step-up first
    if door == "bind api":
        return browser.post("/stepup/api/bindings", json={"method": "sms", "target": number})
    return browser.submit(browser.get("/stepup/bind/phone?next=/"), "", phone=number)


@pytest.mark.parametrize("door", ["bind page", "bind api", "contact api"])
@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_numbers_that_pump_are_refused_at_every_door(make_bank, door, kind):
    regions = GB_ONLY if kind != "region" else {"STEPUP_SMS_ALLOWED_REGIONS": "GB"}
    bank = make_bank(**regions, **CONTACT_VERIFICATION)

    refused = _door(bank, door, REFUSED[kind])

    assert refused.status_code == 422
    if door == "bind page":
        assert "cannot receive codes" in refused.text or "that country" in refused.text
    else:
        reason = "region" if kind in ("region", "denied") else kind
        assert refused.json()["code"] == "invalid_phone" and refused.json()["reason"] == reason
    assert bank.sms.outbox == []
    assert bank.bindings("bob") == []


LIMITS = {
    # setting: numbers that count against one another under it
    "STEPUP_LIMIT_SENDS_PER_TARGET": ["+447700900888"] * 4,
    "STEPUP_LIMIT_SMS_PER_PREFIX": ["+447700900801", "+447700900802", "+447700900803", "+447700900804"],
    "STEPUP_LIMIT_SMS_PER_COUNTRY": ["+447400123456", "+447500123456", "+447700123456", "+447800123456"],
}


@pytest.mark.parametrize("setting", sorted(LIMITS))
def test_sends_are_limited_per_number_range_and_country_across_doors_and_clients(make_bank, setting):
    bank = make_bank(**{setting: "3/hour"}, **PARALLEL_CONTACT)
    first, second, third, fourth = LIMITS[setting]

    answers = [
        bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": first}),
        bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": second}),
        held(bank, "bob").post("/stepup/api/bindings", json={"method": "sms", "target": third}),
        bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": fourth}),
    ]
    refused_bind = held(bank, "bob").post("/stepup/api/bindings", json={"method": "sms", "target": fourth})

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[3].json()["code"] == "rate_limited" and int(answers[3].headers["Retry-After"]) > 0
    assert refused_bind.status_code == 429
    assert len(bank.sms.outbox) == 3
    bank.clock.advance(3600)
    assert bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": fourth}).status_code == 201


def test_resends_count_against_the_number_too(make_bank):
    bank = make_bank(STEPUP_LIMIT_SENDS_PER_TARGET="2/hour", **CONTACT_VERIFICATION)
    client = bank.browser()
    browser = held(bank, "bob")
    created = browser.post("/stepup/api/bindings", json={"method": "sms", "target": "+447700900888"}).json()
    bank.clock.advance(30)
    resend = created["verify_url"].replace("/verify", "/resend")

    second = browser.post(resend)
    bank.clock.advance(30)
    third = browser.post(resend)
    contact = client.post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})

    assert second.status_code == 200
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"
    assert contact.status_code == 429
    assert len(bank.sms.outbox) == 2
    assert browser.post(created["verify_url"], json={"code": bank.code("sms")}).status_code == 200
