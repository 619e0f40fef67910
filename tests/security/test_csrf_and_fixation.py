"""Cross-site requests and session fixation.

Every form of stepup and of the bank needs its CSRF token: tests/adapters/test_csrf.py
posts each of them (the list checked against ``ROUTES``) without it, with a wrong one and
with another session's. The JSON API has no token: it takes JSON bodies only, which a
cross-site form cannot send; here each state-changing endpoint is sent the bodies a form can.

A session cookie captured before the second factor does not carry the grant that factor
earns, and a new login starts a new per-login nonce: what was bound to the old one (a
challenge, a resume token) does nothing after it.
"""

from __future__ import annotations

import pytest

from tests.support.banks import CONTACT_VERIFICATION
from tests.support.flows import ask_transfer, challenge, held, signed_in, transfers


@pytest.fixture
def bank(make_bank):
    """The bank with contact verification switched on (it is off by default): this
    module drives ``/stepup/api/verify`` too."""
    return make_bank(**CONTACT_VERIFICATION)


#: what a cross-site <form> can post: its three encodings.
FORM_BODIES = {
    "urlencoded": ("application/x-www-form-urlencoded", "code={code}&method=sms&channel=sms&to=%2B447700900444"),
    "multipart": (
        "multipart/form-data; boundary=xx",
        '--xx\r\nContent-Disposition: form-data; name="code"\r\n\r\n{code}\r\n--xx--\r\n',
    ),
    # <input name='{"code":"123456","x":"' value='"}'> in an enctype=text/plain form
    "text": ("text/plain", '{{"code":"{code}","method":"sms","channel":"sms","to":"+447700900444","x":"="}}'),
}


@pytest.mark.parametrize("encoding", sorted(FORM_BODIES))
def test_the_json_api_refuses_what_a_cross_site_form_can_send(bank, encoding):
    browser = held(bank)
    created = challenge(browser)
    code = bank.code("sms")
    content_type, body = FORM_BODIES[encoding]
    body = body.format(code=code)
    sent = len(bank.sms.outbox)
    endpoints = [
        "/stepup/api/challenges",
        created["verify_url"],
        created["verify_url"].replace("/verify", "/resend"),
        "/stepup/api/bindings",
        "/stepup/api/verify",
    ]

    answers = [browser.post(url, content=body, content_type=content_type) for url in endpoints]

    assert [a.status_code for a in answers] == [415] * len(endpoints)
    assert all(a.headers["Content-Type"] == "application/problem+json" for a in answers)
    assert len(bank.sms.outbox) == sent
    assert browser.get("/stepup/api/status").json()["held"] is True
    assert browser.post(created["verify_url"], json={"code": code}).status_code == 200


def test_a_cookie_captured_before_the_second_factor_carries_no_grant(bank):
    victim = held(bank)
    captured = bank.twin(victim)  # the attacker's copy of the session, password only
    code_url = victim.choose(victim.follow(victim.get("/")), "sms").location

    victim.enter(code_url, bank.code("sms"))

    assert victim.get("/transfers").status_code == 200
    assert captured.get("/transfers").status_code == 303
    assert captured.get("/stepup/api/status").json()["held"] is True
    assert captured.get("/api/balance", headers={"Accept": "application/json"}).status_code == 401
    assert "Transferred" not in captured.post("/transfer", data={"to": "mallory", "amount": "1"}).text
    assert transfers(victim) == []


def test_a_cookie_captured_before_a_step_up_cannot_use_what_it_approved(bank):
    victim = signed_in(bank)
    choose = victim.follow(ask_transfer(victim, "bob", "30"))
    captured = bank.twin(victim)
    code_url = victim.choose(choose, "sms").location

    assert "Transferred 30.00 to bob" in victim.enter(code_url, bank.code("sms")).text
    again = captured.get(choose.url)

    assert again.status_code == 410 and "This request has ended" in again.text
    assert transfers(victim) == ["30.00 to bob"]


def test_a_new_login_starts_a_new_nonce(bank):
    """Logging in again in the same browser (no logout) ends the grant and everything bound
    to the old login: its challenge and its resume token."""
    browser = signed_in(bank)
    resume = ask_transfer(browser, "bob", "40").location
    old_login = challenge(browser, method="sms")
    code = bank.code("sms")

    browser.login("alice")

    assert browser.get("/transfers").status_code == 303
    assert browser.post(old_login["verify_url"], json={"code": code}).status_code == 403
    assert browser.get(resume).status_code == 403
    assert browser.get("/stepup/api/status").json()["held"] is True


def test_logging_in_as_another_user_drops_the_first_users_grant(bank):
    browser = signed_in(bank)

    browser.login("carol")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"
    assert browser.get("/stepup/api/status").json() | {"methods": None} == {
        "subject": "carol", "held": True, "last_verified_at": None, "step_up_required": True, "max_age": 300,
        "methods": None,
    }  # fmt: skip
