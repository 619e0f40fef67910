"""The JSON API: challenges, resends, cancels, contact verification, and problem documents
for every error, never a 500."""

from __future__ import annotations

import json

import pytest
from itsdangerous.encoding import base64_decode

from stepup import DeliveryError
from tests.support.banks import CONTACT_VERIFICATION


@pytest.fixture
def bank(make_bank):
    """The bank with contact verification switched on (it is off by default): this
    module drives ``/stepup/api/verify`` too. Logins send their code once, without the
    bank's workflow (its next step: tests/adapters/test_workflows_web.py)."""
    return make_bank(**CONTACT_VERIFICATION, STEPUP_WORKFLOWS_BY_PURPOSE="{}")


PROBLEM = "application/problem+json"


@pytest.fixture
def held(bank):
    """alice after her password, before her second factor."""
    browser = bank.browser()
    browser.login("alice")
    return browser


def create(browser, **body):
    response = browser.post("/stepup/api/challenges", json=body or {"method": "sms"})
    assert response.status_code == 201, response.json()
    return response.json()


def wrong_for(right):
    return "000000" if right != "000000" else "111111"


def test_status_before_and_after_the_second_factor(bank, held):
    stranger = bank.browser()
    assert stranger.get("/stepup/api/status").status_code == 401

    before = held.get("/stepup/api/status").json()
    create(held, method="email")
    held.post(
        held.post("/stepup/api/challenges", json={"method": "sms"}).json()["verify_url"],
        json={"code": bank.code("sms")},
    )
    after = held.get("/stepup/api/status").json()

    assert before["held"] is True and before["step_up_required"] is True and before["last_verified_at"] is None
    assert after["held"] is False and after["step_up_required"] is False
    assert after["last_verified_at"] == bank.clock()


def test_a_challenge_says_where_its_code_went_and_what_is_left(held):
    challenge = create(held)

    assert challenge["target"] == "+44 •••• ••0001"
    assert challenge["attempts_left"] == 3 and challenge["sends_left"] == 2
    assert challenge["expires_in"] == 300 and challenge["resend_in"] == 30
    assert "code" not in challenge and "code_digest" not in challenge


def test_wrong_codes_count_down_then_exhaust(bank, held):
    challenge = create(held)
    wrong = wrong_for(bank.code("sms"))

    answers = [held.post(challenge["verify_url"], json={"code": wrong}) for _ in range(3)]
    late = held.post(challenge["verify_url"], json={"code": bank.code("sms")})

    assert [a.status_code for a in answers] == [400, 400, 410]
    assert [a.json()["attempts_left"] for a in answers] == [2, 1, 0]
    assert [a.json()["code"] for a in answers] == ["wrong_code", "wrong_code", "challenge_exhausted"]
    assert all(a.headers["Content-Type"] == PROBLEM for a in answers)
    assert late.status_code == 410
    assert held.get("/stepup/api/status").json()["held"] is True


def test_failures_across_challenges_back_off(bank, held):
    first = create(held)
    wrong = wrong_for(bank.code("sms"))
    for _ in range(3):
        held.post(first["verify_url"], json={"code": wrong})
    second = create(held)

    locked = held.post(second["verify_url"], json={"code": bank.code("sms")})

    assert locked.status_code == 429 and locked.json()["code"] == "locked"
    assert locked.json()["retry_after"] == 1 and locked.headers["Retry-After"] == "1"
    assert locked.json()["locked_until"] == bank.clock() + 1
    bank.clock.advance(1)
    assert held.post(second["verify_url"], json={"code": bank.code("sms")}).status_code == 200


def test_a_code_expires(bank, held):
    challenge = create(held)
    bank.clock.advance(300)

    late = held.post(challenge["verify_url"], json={"code": bank.code("sms")})

    assert late.status_code == 410 and late.json()["code"] == "challenge_expired"


def test_resend_cooldown_and_limit(bank, held):
    challenge = create(held)
    resend_url = challenge["verify_url"].replace("/verify", "/resend")
    old = bank.code("sms")

    early = held.post(resend_url)
    assert early.status_code == 429 and early.json()["code"] == "resend_too_soon"
    assert early.json()["retry_after"] == 30 and early.headers["Retry-After"] == "30"

    bank.clock.advance(30)
    second = held.post(resend_url)
    assert second.status_code == 200 and second.json()["sends_left"] == 1
    new = bank.code("sms")
    bank.clock.advance(30)
    assert held.post(resend_url, json={}).json()["sends_left"] == 0
    newest = bank.code("sms")
    bank.clock.advance(30)
    spent = held.post(resend_url)
    assert spent.status_code == 429 and spent.json()["code"] == "no_sends_left"
    assert len(bank.sms.outbox) == 3

    for stale in {old, new} - {newest}:
        assert held.post(challenge["verify_url"], json={"code": stale}).status_code == 400
    assert held.post(challenge["verify_url"], json={"code": newest}).status_code == 200


def test_a_cancelled_challenge_takes_no_code(bank, held):
    challenge = create(held)
    url = challenge["verify_url"].removesuffix("/verify")

    cancelled = held.open(url, "DELETE")
    again = held.open(url, "DELETE")
    late = held.post(challenge["verify_url"], json={"code": bank.code("sms")})

    assert cancelled.status_code == 204
    assert again.status_code == 410
    assert late.status_code == 410 and late.json()["code"] == "challenge_closed"


def test_another_sessions_challenge_is_forbidden(bank, held):
    challenge = create(held)
    other = bank.browser()
    other.login("alice")

    stolen = other.post(challenge["verify_url"], json={"code": bank.code("sms")})

    assert stolen.status_code == 403 and stolen.json()["code"] == "challenge_forbidden"
    assert held.post(challenge["verify_url"], json={"code": bank.code("sms")}).status_code == 200


def test_too_many_challenges_are_rate_limited(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="2/15 minutes")
    browser = bank.browser()
    browser.login("alice")
    create(browser)
    create(browser, method="email")

    limited = browser.post("/stepup/api/challenges", json={"method": "email"})

    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) == limited.json()["retry_after"] > 0


def test_a_failed_send_is_a_503_that_costs_nothing(bank, held):
    bank.sms.fail_with = DeliveryError("The SMS provider is down.", "sms", "timeout")

    failed = held.post("/stepup/api/challenges", json={"method": "sms"})
    bank.sms.fail_with = None
    retried = held.post("/stepup/api/challenges", json={"method": "sms"})

    assert failed.status_code == 503 and failed.json()["code"] == "delivery_failed"
    assert retried.status_code == 201 and retried.json()["sends_left"] == 2


# -- contact verification ----------------------------------------------------------------


def test_contact_verification_by_sms(bank):
    client = bank.browser()  # not signed in: a registration form

    requested = client.post("/stepup/api/verify", json={"channel": "sms", "to": "+44 7700 900888"})
    assert requested.status_code == 201
    check_url = requested.json()["check_url"]
    wrong = client.post(check_url, json={"code": wrong_for(bank.code("sms"))})
    right = client.post(check_url, json={"code": bank.code("sms")})
    again = client.post(check_url, json={"code": bank.code("sms")})

    assert bank.sms.last.to == "+447700900888"
    assert wrong.status_code == 400 and wrong.json()["attempts_left"] == 2
    assert right.status_code == 200 and right.json() == {"verified": True, "channel": "sms", "to": "+447700900888"}
    assert again.status_code == 410


def test_contact_verification_by_email(bank):
    client = bank.browser()
    requested = client.post("/stepup/api/verify", json={"channel": "email", "to": "Someone@Example.org"})

    checked = client.post(requested.json()["check_url"], json={"code": bank.code("email")})

    assert checked.json()["verified"] is True and bank.email.last.to.lower() == "someone@example.org"


@pytest.mark.parametrize(
    ("to", "reason"), [("+44 909 879 0000", "premium_rate"), ("12345", "format"), ("+44 20 7946 0000", "type")]
)
def test_contact_verification_refuses_numbers_it_will_not_text(bank, to, reason):
    refused = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": to})

    assert refused.status_code == 422 and refused.headers["Content-Type"] == PROBLEM
    assert refused.json()["reason"] in {reason, "invalid"}
    assert bank.sms.outbox == []


def test_a_contact_request_id_is_not_a_login_challenge(bank, held):
    challenge = create(held)
    # The challenge id inside the page token is signed, not secret.
    raw_id = json.loads(base64_decode(challenge["id"].split(".")[0]))["c"]

    forged = bank.browser().post(f"/stepup/api/verify/{raw_id}/check", json={"code": bank.code("sms")})

    assert forged.status_code == 403
    assert held.post(challenge["verify_url"], json={"code": bank.code("sms")}).status_code == 200


# -- bad input -------------------------------------------------------------------------

BAD_REQUESTS = [
    ("post", "/stepup/api/challenges", {"content": "{not json", "content_type": "application/json"}, 400),
    ("post", "/stepup/api/challenges", {"json": ["sms"]}, 400),
    ("post", "/stepup/api/challenges", {"data": {"method": "sms"}}, 415),
    ("post", "/stepup/api/challenges", {"json": {}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"method": 5}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"method": "fax"}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"method": "sms" * 100}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"binding_id": "nope"}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"method": "sms", "resume": 7}}, 422),
    ("post", "/stepup/api/challenges", {"json": {"method": "sms", "resume": "forged.token"}}, 410),
    ("post", "/stepup/api/challenges/nope/verify", {"json": {"code": "123456"}}, 404),
    ("post", "/stepup/api/challenges/nope/resend", {}, 404),
    ("delete", "/stepup/api/challenges/nope", {}, 404),
    ("get", "/stepup/api/status?max_age=soon", {}, 422),
    ("get", "/stepup/api/status?max_age=1e999", {}, 422),
    ("post", "/stepup/api/verify", {"json": {"channel": "sms"}}, 422),
    ("post", "/stepup/api/verify", {"json": {"channel": "pigeon", "to": "+447700900888"}}, 422),
    ("post", "/stepup/api/verify", {"json": {"channel": "sms", "to": ["+447700900888"]}}, 422),
    ("post", "/stepup/api/verify", {"content": "to=+447700900888", "content_type": "text/plain"}, 415),
    ("post", "/stepup/api/verify/nope/check", {"json": {"code": "123456"}}, 404),
    ("post", "/stepup/api/verify/nope/check", {"json": {"code": None}}, 422),
    ("post", "/stepup/api/verify/" + "x" * 30 + "/check", {"json": {"code": "123456"}}, 404),
]


@pytest.mark.parametrize(("verb", "path", "options", "status"), BAD_REQUESTS)
def test_bad_input_gets_a_clear_4xx(held, verb, path, options, status):
    response = held.open(path, verb.upper(), **options)

    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["status"] == status and response.json()["title"]


def test_bad_codes_on_a_real_challenge_get_a_clear_4xx(bank, held):
    challenge = create(held)
    for body, status in [
        ({"code": 123456}, 422),
        ({}, 422),
        ({"code": "x" * 5000}, 400),
        ({"code": "１２３４５６"}, 400),
    ]:
        response = held.post(challenge["verify_url"], json=body)
        assert response.status_code == status, (body, response.json())
        assert response.headers["Content-Type"] == PROBLEM
