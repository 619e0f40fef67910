"""Send budgets: what one send is charged to, and how the limits key a client and a target.

Codes to numbers and addresses not yet verified (binding one, contact verification) use
the SMS-pumping limits and per-target limits of their own; a user's codes to what they
bound use limits that no such send can touch, so an outsider who texts a user's number,
or the whole range around it, does not switch off their sign-in; many accounts with bound
numbers are still capped. Per-client limits key an IPv6 client by its /64 (an IPv4-mapped
one as IPv4), email limits and contact failures key an address whatever its case, email
has a global cap, and non-geographic (satellite) numbers are refused like premium ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender
from tests.support.banks import CONTACT_VERIFICATION, PARALLEL_CONTACT
from tests.support.flows import held, wrong_for

SECRET = "b" * 40
ALICE = "+447700900001"  # alice's bound number in the demo bank
#: numbers in alice's prefix (+4477009, seven digits), country and total, none bound.
OTHERS = ["+447700900600", "+447700900601", "+447700900602", "+447700900603"]


@pytest.fixture
def make_engine(
    store_url: str, clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender
) -> Iterator[Callable[..., stepup.Engine]]:
    made: list[stepup.Engine] = []

    def make(**overrides: Any) -> stepup.Engine:
        engine = stepup.Engine(secret_key=SECRET, store_url=store_url, sms=sms, email=email, clock=clock, **overrides)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


# -- E: unverified sends cannot use up a bound user's budget -----------------------------------------

#: setting -> the unverified numbers that fill it (three), alice's own number among them or not.
FILLED_BY = {
    "STEPUP_LIMIT_CHALLENGES_PER_TARGET": [ALICE] * 3,
    "STEPUP_LIMIT_SENDS_PER_TARGET": [ALICE] * 3,
    "STEPUP_LIMIT_SMS_PER_PREFIX": OTHERS[:3],
    "STEPUP_LIMIT_SMS_PER_COUNTRY": OTHERS[:3],
    "STEPUP_LIMIT_SMS_TOTAL": OTHERS[:3],
}


def _unverified_send(bank: Any, door: str, number: str) -> Any:
    if door == "contact api":  # anyone, not signed in
        return bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": number})
    # any account that may bind a number (bob has nothing bound: binds at first login)
    return held(bank, "bob").post("/stepup/api/bindings", json={"method": "sms", "target": number})


@pytest.mark.parametrize("door", ["contact api", "bind api"])
@pytest.mark.parametrize("setting", sorted(FILLED_BY))
def test_texting_unverified_numbers_does_not_switch_off_a_users_sign_in(make_bank, door, setting):
    bank = make_bank(**{setting: "3/hour"}, **PARALLEL_CONTACT)
    numbers = FILLED_BY[setting]

    sent = [_unverified_send(bank, door, number).status_code for number in numbers]
    refused = _unverified_send(bank, door, numbers[-1] if numbers[0] == ALICE else OTHERS[3])
    alice = held(bank)
    login = alice.post("/stepup/api/challenges", json={"method": "sms"})
    code = bank.code("sms")
    signed = alice.post(login.json().get("verify_url", "/"), json={"code": code})

    assert sent == [201, 201, 201] and refused.status_code == 429  # the unverified budget is full
    assert login.status_code == 201, login.text  # alice's own login still texts her
    assert bank.sms.outbox[-1].to == ALICE and bank.sms.outbox[-1].purpose == "login"
    assert signed.status_code == 200 and signed.json()["approved"] is True


def test_a_users_codes_have_per_number_limits_of_their_own(make_bank):
    bank = make_bank(
        STEPUP_LIMIT_BOUND_CHALLENGES_PER_TARGET="2/15 minutes", STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="30/15 minutes",
        **CONTACT_VERIFICATION,
    )  # fmt: skip
    alice = held(bank)

    logins = [alice.post("/stepup/api/challenges", json={"method": "sms"}) for _ in range(3)]
    contact = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": ALICE})

    assert [r.status_code for r in logins] == [201, 201, 429]
    assert logins[2].json()["code"] == "rate_limited"
    assert contact.status_code == 201  # and they are not charged to the unverified budget either


def test_unverified_sends_fill_only_their_own_limits_on_every_store(make_engine, sms):
    engine = make_engine(
        limit_challenges_per_target="2/hour", limit_sms_per_prefix="2/day", limit_sms_total="2/hour",
        test_number_prefixes=("+447700900",), contact_parallel_requests=True,
    )  # fmt: skip
    engine.import_binding("alice", "sms", ALICE)
    engine.contact.request("sms", ALICE)
    engine.contact.request("sms", ALICE)
    with pytest.raises(stepup.RateLimited) as full:
        engine.contact.request("sms", OTHERS[0])

    login = engine.start("alice", "sms", "login")

    assert full.value.limit in {"challenges_per_target", "sms_per_prefix", "sms_total"}
    assert login.state == "pending" and sms.last.to == ALICE and sms.last.purpose == "login"


def test_many_accounts_with_bound_numbers_are_still_capped_on_every_store(make_engine, sms):
    # SMS pumping by accounts: each number had to be bound (an unverified send, on the
    # pumping limits); once bound, their codes have a total and a per-number cap.
    engine = make_engine(limit_bound_sms_total="3/hour", limit_bound_challenges_per_target="2/hour")
    for n in range(4):
        engine.import_binding(f"pump{n}", "sms", f"+44 7400 12345{n}")
    engine.import_binding("twin", "sms", "+44 7400 123450")  # one number bound to a second account
    engine.start("pump0", "sms", "login")
    engine.start("twin", "sms", "login")
    with pytest.raises(stepup.RateLimited) as per_number:
        engine.start("pump0", "sms", "login")
    engine.start("pump1", "sms", "login")
    with pytest.raises(stepup.RateLimited) as total:
        engine.start("pump2", "sms", "login")

    assert per_number.value.limit == "bound_challenges_per_target"
    assert total.value.limit == "bound_sms_total"
    assert len(sms.outbox) == 3


# -- I-email: a global cap on email to unverified addresses -----------------------------------------


def test_email_to_unverified_addresses_has_a_global_cap_that_bound_codes_do_not_share(make_engine, email):
    engine = make_engine(limit_email_total="3/hour")
    engine.import_binding("alice", "email", "alice@example.com")
    for n in range(3):
        engine.contact.request("email", f"someone{n}@example.net")

    with pytest.raises(stepup.RateLimited) as caught:
        engine.contact.request("email", "someone3@example.org")
    login = engine.start("alice", "email", "login")

    assert caught.value.limit == "email_total" and caught.value.retry_after > 0
    assert login.state == "pending" and email.last.to == "alice@example.com"
    assert len(email.outbox) == 4


# -- G: a client is its address in one spelling, an IPv6 client its /64 ------------------------------


def _contact_from(bank: Any, client: str, n: int) -> int:
    body = {"channel": "sms", "to": f"+4477009{800 + n:05d}"}
    return bank.browser().post("/stepup/api/verify", json=body, headers={"X-Forwarded-For": client}).status_code


def test_an_ipv6_client_is_one_client_across_its_64(make_bank):
    bank = make_bank(STEPUP_TRUSTED_PROXY_HOPS="1", **CONTACT_VERIFICATION)

    answers = [_contact_from(bank, f"2001:db8:1:2::{n:x}", n) for n in range(0x64, 0x70)]
    neighbour = _contact_from(bank, "2001:db8:1:3::64", 20)

    assert answers == [201] * 10 + [429] * 2  # ten per client an hour, however many addresses
    assert neighbour == 201  # the next /64 is another client


def test_an_ipv4_mapped_address_is_the_ipv4_client(make_bank):
    limits = {"STEPUP_TRUSTED_PROXY_HOPS": "1", "STEPUP_LIMIT_CONTACT_REQUESTS_PER_CLIENT": "2/hour"}
    bank = make_bank(**limits, **CONTACT_VERIFICATION)
    spellings = ["203.0.113.5", "::ffff:203.0.113.5", "::ffff:cb00:7105"]

    answers = [_contact_from(bank, client, n) for n, client in enumerate(spellings)]

    assert answers == [201, 201, 429]


def test_a_proxy_that_appends_the_source_port_still_names_one_client(make_bank):
    # Some proxies write "203.0.113.6:40001": a new source port is not a new client.
    limits = {"STEPUP_TRUSTED_PROXY_HOPS": "1", "STEPUP_LIMIT_CONTACT_REQUESTS_PER_CLIENT": "2/hour"}
    bank = make_bank(**limits, **CONTACT_VERIFICATION)
    spellings = ["203.0.113.6:40001", "203.0.113.6:40002", "203.0.113.6", "[2001:db8:1:2::1]:40003"]

    answers = [_contact_from(bank, client, n) for n, client in enumerate(spellings)]

    assert answers == [201, 201, 429, 201]  # the IPv6 client is another one


def test_each_ipv6_address_is_its_own_client_when_the_prefix_says_so(make_bank):
    bank = make_bank(STEPUP_TRUSTED_PROXY_HOPS="1", STEPUP_CLIENT_IPV6_PREFIX="128", **CONTACT_VERIFICATION)

    answers = [_contact_from(bank, f"2001:db8:1:2::{n:x}", n) for n in range(0x64, 0x70)]

    assert answers == [201] * 12


def test_a_client_address_that_is_no_ip_stays_as_it_is_but_bounded():
    from stepup.web import client_address

    assert client_address(None, "not-an-ip" + "x" * 500, 1) == ("not-an-ip" + "x" * 500)[:64]
    assert client_address("[2001:db8:1:2::1]", "", 0) == "2001:db8:1:2::/64"


# -- H: an address is one target whatever its case -----------------------------------------------


def test_an_address_in_other_cases_is_the_same_target(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_TARGET="3/15 minutes", **PARALLEL_CONTACT)

    def request(to: str) -> Any:
        return bank.browser().post("/stepup/api/verify", json={"channel": "email", "to": to})

    first = [request("Victim@example.org").status_code, request("victim@example.org").status_code]
    third = request("victim@example.org")
    others = [request("Victim@example.org"), request("VICTIM@EXAMPLE.ORG")]

    assert first == [201, 201] and third.status_code == 201
    assert [r.status_code for r in others] == [429, 429]
    assert others[1].json()["code"] == "rate_limited"
    assert [m.to for m in bank.email.outbox] == ["Victim@example.org", "victim@example.org", "victim@example.org"]


def test_wrong_contact_codes_back_an_address_off_in_every_case_on_every_store(make_engine, email, last_code):
    engine = make_engine(backoff_after=3, limit_challenges_per_target="50/hour", limit_sends_per_target="50/hour")
    request_id = engine.contact.request("email", "victim@example.org")
    for _ in range(3):
        with pytest.raises((stepup.WrongCode, stepup.ChallengeExhausted)):
            engine.contact.check(request_id, wrong_for(last_code(email)))
    request_id = engine.contact.request("email", "VICTIM@Example.org")

    with pytest.raises(stepup.TemporarilyLocked):
        engine.contact.check(request_id, last_code(email))
    engine.unlock_target("email", "Victim@example.org")

    assert engine.contact.check(request_id, last_code(email)).to == "VICTIM@example.org"


# -- K: non-geographic numbers -----------------------------------------------------------------------

IRIDIUM = "+881612345678"


@pytest.mark.parametrize("door", ["contact api", "bind api"])
def test_non_geographic_numbers_are_refused_by_default(make_bank, door):
    bank = make_bank(**CONTACT_VERIFICATION)

    refused = _unverified_send(bank, door, IRIDIUM)

    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_phone" and refused.json()["reason"] == "non_geographic"
    assert "Satellite" in refused.json()["title"]
    assert bank.sms.outbox == [] and bank.bindings("bob") == []


def test_non_geographic_numbers_are_refused_on_the_bind_page(make_bank):
    bank = make_bank()
    browser = held(bank, "bob")

    refused = browser.submit(browser.get("/stepup/bind/phone?next=/"), "", phone=IRIDIUM)

    assert refused.status_code == 422 and "non-geographic numbers cannot receive codes" in refused.text
    assert bank.sms.outbox == []


def test_non_geographic_numbers_may_be_allowed(make_bank):
    bank = make_bank(STEPUP_SMS_ALLOW_NON_GEOGRAPHIC="1", **CONTACT_VERIFICATION)

    sent = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": IRIDIUM})

    assert sent.status_code == 201 and bank.sms.outbox[-1].to == IRIDIUM
