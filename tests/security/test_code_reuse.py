"""Reusing a code: on the challenge it passed, on a new challenge, after a resend, and an
authenticator code within its own time step. Every code works once, for its challenge.
(Recovery codes: tests/adapters/test_login_2fa.py::test_login_with_a_recovery_code_works_once.)"""

from __future__ import annotations

import pytest

from tests.support.flows import challenge, held, signed_in, transfers


def test_a_code_passes_its_challenge_once_on_the_api(bank):
    browser = held(bank)
    created = challenge(browser)
    code = bank.code("sms")

    first = browser.post(created["verify_url"], json={"code": code})
    again = browser.post(created["verify_url"], json={"code": code})

    assert first.status_code == 200
    assert again.status_code in (403, 410) and again.json()["code"] in ("challenge_closed", "challenge_forbidden")


def test_a_used_code_does_not_pass_the_next_challenge(bank):
    browser = held(bank)
    old_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    old = bank.code("sms")
    browser.enter(old_url, old)
    bank.clock.advance(3601)  # the bank's home asks again after an hour

    step_up = browser.choose(browser.follow(browser.get("/")), "sms").location
    reused = browser.enter(step_up, old)

    assert old != bank.code("sms")
    assert reused.status_code == 400 and "2 attempts left" in reused.text
    assert browser.get("/").status_code == 303


def test_the_code_of_an_open_challenge_does_not_pass_another(bank):
    browser = held(bank)
    first = challenge(browser)
    first_code = bank.code("sms")
    second = challenge(browser)

    crossed = browser.post(second["verify_url"], json={"code": first_code})

    assert crossed.status_code == 400 and crossed.json()["attempts_left"] == 2
    assert browser.post(first["verify_url"], json={"code": first_code}).status_code == 200


def test_an_approval_code_approves_one_transfer_not_the_next(bank):
    browser = signed_in(bank)
    first_url = browser.choose(browser.follow(_ask(browser, "10")), "sms").location
    first_code = bank.code("sms")
    assert "Transferred 10.00 to bob" in browser.enter(first_url, first_code).text

    second_url = browser.choose(browser.follow(_ask(browser, "10")), "sms").location
    reused = browser.enter(second_url, first_code)

    assert reused.status_code == 400
    assert transfers(browser) == ["10.00 to bob"]


def _ask(browser, amount):
    return browser.submit(browser.get("/transfer"), "/transfer", to="bob", amount=amount)


def test_a_code_replaced_by_a_resend_no_longer_works(make_bank):
    bank = make_bank(STEPUP_WORKFLOWS_BY_PURPOSE="{}")  # a workflow's steps all send one code
    browser = held(bank)
    created = challenge(browser)
    replaced = bank.code("sms")
    bank.clock.advance(30)
    browser.post(created["verify_url"].replace("/verify", "/resend"))

    stale = browser.post(created["verify_url"], json={"code": replaced})

    assert replaced != bank.code("sms")
    assert stale.status_code == 400


@pytest.mark.parametrize("where", ["same session", "new session"])
def test_an_authenticator_code_works_once_within_its_step(bank, where):
    first = held(bank, "carol")
    code = bank.code("totp")
    assert first.post(challenge(first, method="totp")["verify_url"], json={"code": code}).status_code == 200
    second = first if where == "same session" else held(bank, "carol")

    reused = second.post(challenge(second, method="totp")["verify_url"], json={"code": code})

    assert reused.status_code == 400 and reused.json()["code"] == "wrong_code"


def test_an_authenticator_code_of_an_earlier_step_is_refused_once_a_later_one_passed(bank):
    browser = held(bank, "carol")
    earlier = bank.code("totp")
    bank.next_totp_step()
    later = bank.code("totp")
    assert browser.post(challenge(browser, method="totp")["verify_url"], json={"code": later}).status_code == 200

    other = held(bank, "carol")
    drifted = other.post(challenge(other, method="totp")["verify_url"], json={"code": earlier})

    assert earlier != later
    assert drifted.status_code == 400  # within the drift window, but older than the step used
    bank.next_totp_step()
    assert (
        other.post(challenge(other, method="totp")["verify_url"], json={"code": bank.code("totp")}).status_code == 200
    )
