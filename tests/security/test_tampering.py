"""Response tampering: the signed tokens stepup hands out (code page tokens in URLs, resume
tokens, the approval header, CSRF tokens, the remembered-browser cookie) changed, forged
with another key, swapped for a token of another purpose, replayed, or past their age on
the frozen clock. Each is refused as if it were not there. (Expired device cookies:
tests/adapters/test_remember_browser.py; CSRF tokens changed or of another session:
tests/adapters/test_csrf.py.)"""

from __future__ import annotations

import secrets

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.support.flows import ask_transfer, challenge, held, payload_of, signed_in, token_of, transfers

#: the lifetime of a page token: a challenge's lifetime and retention (900 + 3600 s).
PAGE_TOKEN_AGE = 4500


def tampered(token: str) -> str:
    """One character of the signature changed (in its middle: a base64 string's last
    character may carry only padding bits)."""
    head, _, signature = token.rpartition(".")
    i = len(signature) // 2
    return f"{head}.{signature[:i]}{'A' if signature[i] != 'A' else 'B'}{signature[i + 1 :]}"


def forged(payload, salt: str) -> str:
    """A token of the right shape signed with a key that is not the app's."""
    return URLSafeTimedSerializer("an-attackers-own-key-0123456789abcdef", salt=salt).dumps(payload)


def spliced(one: str, other: str) -> str:
    """``one``'s payload with ``other``'s timestamp and signature."""
    return one.split(".")[0] + "." + ".".join(other.split(".")[1:])


# -- code page tokens ------------------------------------------------------------------------


@pytest.fixture
def two_challenges(bank):
    browser = held(bank)
    first, second = challenge(browser), challenge(browser)
    return browser, first["id"], second["id"]


@pytest.mark.parametrize("how", ["tampered", "spliced", "forged", "resume token", "csrf token"])
def test_a_changed_or_forged_page_token_is_no_challenge(bank, two_challenges, how):
    browser, token, other = two_challenges
    csrf = browser.form(browser.get("/logout"), "/logout").fields["csrf_token"]
    resume = ask_transfer(signed_in(bank), "bob", "1").location.split("?r=")[1]
    bad = {
        "tampered": tampered(token),
        "spliced": spliced(token, other),
        "forged": forged({**payload_of(token), "n": "//evil.example"}, "stepup.page"),
        "resume token": resume,
        "csrf token": csrf,
    }[how]

    page = browser.get(f"/stepup/code/{bad}")
    posted = browser.post(f"/stepup/code/{bad}", data={"code": bank.code("sms"), "csrf_token": csrf})
    api = browser.post(f"/stepup/api/challenges/{bad}/verify", json={"code": bank.code("sms")})

    assert page.status_code == 404 and "not valid" in page.text
    assert posted.status_code == 404
    assert api.status_code == 404 and api.json()["code"] == "challenge_not_found"
    assert browser.get("/stepup/api/status").json()["held"] is True


def test_a_page_token_past_its_age_is_no_challenge(bank):
    browser = held(bank)
    token = challenge(browser)["id"]
    bank.clock.advance(PAGE_TOKEN_AGE + 1)

    assert browser.get(f"/stepup/code/{token}").status_code == 404
    assert browser.post(f"/stepup/api/challenges/{token}/verify", json={"code": bank.code("sms")}).status_code == 404


# -- resume tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["tampered", "forged", "page token", "expired"])
def test_a_changed_forged_or_expired_resume_token_resumes_nothing(bank, how):
    browser = signed_in(bank)
    resume = ask_transfer(browser, "bob", "60").location.split("?r=")[1]
    if how == "expired":
        bank.clock.advance(901)  # resume tokens last 15 minutes
    bad = {
        "tampered": tampered(resume),
        "forged": forged(payload_of(resume), "stepup.resume"),
        "page token": challenge(browser, method="sms")["id"],
        "expired": resume,
    }[how]

    page = browser.get(f"/stepup/?r={bad}")
    api = browser.post("/stepup/api/challenges", json={"method": "sms", "resume": bad})

    assert page.status_code == 410 and "This request has ended" in page.text
    assert api.status_code == 410
    assert transfers(browser) == []


def test_a_used_resume_token_resumes_nothing_again(bank):
    browser = signed_in(bank)
    asked = ask_transfer(browser, "bob", "70")
    browser.pass_challenge(browser.follow(asked), "sms")

    again = browser.get(asked.location)

    assert again.status_code == 410
    assert transfers(browser) == ["70.00 to bob"]


# -- the approval header ------------------------------------------------------------------------


def _approval(lab, browser, payment):
    asked = browser.post("/pay", json=payment)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    return browser.post(created["verify_url"], json={"code": lab.code("sms")}).json()["approval"]


@pytest.mark.parametrize("how", ["tampered", "forged", "resume token", "expired"])
def test_a_changed_forged_or_expired_approval_runs_nothing(lab, lab_records, how):
    browser = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "5.00"}
    approval = _approval(lab, browser, payment)
    if how == "expired":
        lab.clock.advance(PAGE_TOKEN_AGE + 1)
    bad = {
        "tampered": tampered(approval),
        "forged": forged(payload_of(approval), "stepup.page"),
        "resume token": browser.post("/pay", json=payment).json()["resume"],
        "expired": approval,
    }[how]

    refused = browser.post("/pay", json=payment, headers={"Stepup-Approval": bad})

    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert lab_records.payments == []


def test_a_replayed_approval_runs_nothing_again(lab, lab_records):
    browser = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "5.00"}
    approval = {"Stepup-Approval": _approval(lab, browser, payment)}

    first = browser.post("/pay", json=payment, headers=approval)
    replayed = browser.post("/pay", json=payment, headers=approval)

    assert first.status_code == 200 and replayed.status_code == 410
    assert lab_records.payments == [("bob", "5.00")]


# -- CSRF tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["page token", "forged", "expired"])
def test_a_csrf_token_of_another_purpose_forged_or_expired_is_refused(bank, how):
    browser = held(bank)
    choose = browser.follow(browser.get("/"))
    form = browser.form(choose, "/stepup/")
    if how == "expired":
        bank.clock.advance(7201)  # CSRF tokens last two hours
    bad = {
        "page token": challenge(browser)["id"],
        "forged": forged(payload_of(form.fields["csrf_token"]), "stepup.csrf"),
        "expired": form.fields["csrf_token"],
    }[how]
    sent = len(bank.sms.outbox)

    refused = browser.post("/stepup/", data={**form.fields, "binding": form.radios["binding"][0][0], "csrf_token": bad})

    assert refused.status_code == 400 and "expired or came from another page" in refused.text
    assert len(bank.sms.outbox) == sent


# -- the remembered-browser cookie ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["tampered", "forged", "page token", "another users"])
def test_a_changed_or_forged_device_cookie_does_not_skip_the_second_factor(make_bank, how):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    carols = bank.browser()
    carols.login("carol")
    carols.enter(carols.choose(carols.follow(carols.get("/")), "totp").location, bank.code("totp"), remember="y")
    browser = bank.browser()
    browser.login("alice")
    alices = browser.choose(browser.follow(browser.get("/")), "sms").location
    browser.enter(alices, bank.code("sms"), remember="y")
    mine = browser.cookie("stepup_device")
    assert mine is not None
    browser.logout()
    bad = {
        "tampered": mine[:-1] + ("A" if mine[-1] != "A" else "B"),
        "forged": secrets.token_urlsafe(18),  # an id of the right shape, never issued
        "page token": token_of(alices),
        "another users": carols.cookie("stepup_device"),
    }[how]
    browser.set_cookie("stepup_device", bad)

    browser.login("alice")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_a_tampered_session_cookie_is_no_session(bank):
    browser = signed_in(bank)
    browser.set_cookie("session", tampered(browser.cookie("session")))

    assert browser.get("/transfers").location.startswith("/login")
