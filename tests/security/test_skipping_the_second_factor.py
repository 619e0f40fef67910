"""Skipping the second factor: a session that knows only the password goes straight to
protected pages, APIs and operations, or tries to give itself a second factor. Nothing gets
through. (tests/adapters/test_login_2fa.py shows the held pages and the 401 of the bank's
JSON route; this adds every route, verb and client kind, and the ways round.)"""

from __future__ import annotations

import pytest

from tests.support.flows import held, transfers

#: the bank's routes behind the login, with what each shows once let in.
BANK_PAGES = {
    "/": "Welcome, alice",
    "/account": "Sign-in methods",
    "/transfer": "Make a transfer",
    "/transfers": "Your transfers",
    "/admin/security": "Security settings",
    "/api/balance": "1250.00",
}
JSON = {"Accept": "application/json"}
#: what curl, httpx and fetch send: no preference.
ANY = {"Accept": "*/*"}


@pytest.mark.parametrize("path", sorted(BANK_PAGES))
@pytest.mark.parametrize("verb", ["GET", "HEAD"])
def test_a_held_browser_is_sent_to_the_second_factor_from_every_page(bank, path, verb):
    browser = held(bank)

    response = browser.open(path, verb)

    assert response.status_code == 303
    assert response.location == f"/stepup/?next={path}"
    assert BANK_PAGES[path] not in response.text


@pytest.mark.parametrize("path", sorted(BANK_PAGES))
@pytest.mark.parametrize("accept", [JSON, ANY], ids=["json", "any"])
def test_a_held_api_client_gets_401_insufficient_user_authentication_everywhere(bank, path, accept):
    browser = held(bank)

    response = browser.get(path, headers=accept)

    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["WWW-Authenticate"]
    assert response.json()["code"] == "insufficient_user_authentication"
    assert BANK_PAGES[path] not in response.text


@pytest.mark.parametrize("kind", ["form", "json", "form-asking-json"])
def test_a_held_transfer_never_runs_nor_sends_a_code(bank, kind):
    browser = held(bank)
    fields = {"to": "mallory", "amount": "900"}

    if kind == "form":
        response = browser.post("/transfer", data=fields)
    elif kind == "json":
        response = browser.post("/transfer", json=fields)
    else:
        response = browser.post("/transfer", data=fields, headers=JSON)

    assert response.status_code in (303, 401)
    assert "Transferred" not in response.text
    assert bank.sms.outbox == [] and bank.email.outbox == []
    assert browser.get("/stepup/api/status").json()["held"] is True


def test_held_json_operations_of_an_api_never_run(lab, lab_records):
    browser = held(lab, "dana")
    lab_records.items["7"] = {"name": "lamp", "colour": "white"}

    update = browser.open("/items/7", "PUT", json={"name": "lamp", "colour": "red"})
    pay = browser.post("/pay", json={"to": "mallory", "amount": "900"})
    report = browser.get("/vault/keys", headers=ANY)

    assert [update.status_code, pay.status_code, report.status_code] == [401, 401, 401]
    assert lab_records.items["7"]["colour"] == "white" and lab_records.payments == []


def test_a_held_session_cannot_give_itself_a_second_factor(bank):
    """Minting recovery codes or adding an authenticator would hand a password-only
    attacker a second factor: both ask for the existing one first."""
    browser = held(bank)
    # A valid CSRF token of the session, from the page it may see.
    token = browser.form(browser.follow(browser.get("/")), "/stepup/").fields["csrf_token"]

    pages = [browser.get("/stepup/recovery-codes"), browser.get("/stepup/bind/totp")]
    recovery = browser.post("/stepup/recovery-codes", data={"csrf_token": token})
    totp_page = browser.post("/stepup/bind/totp", data={"csrf_token": token})
    totp_api = browser.post("/stepup/api/bindings", json={"method": "totp"})
    phone_api = browser.post("/stepup/api/bindings", json={"method": "sms", "target": "+447700900666"})

    # Sent to the login's own second factor; nothing is saved for the subject (no ?r=).
    assert [page.location for page in pages] == [
        "/stepup/?next=/stepup/recovery-codes",
        "/stepup/?next=/stepup/bind/totp",
    ]
    assert recovery.status_code == 303 and recovery.location == "/stepup/?next=/"
    assert totp_page.status_code == 303 and totp_page.location == "/stepup/?next=/"
    assert totp_api.status_code == 401 and phone_api.status_code == 401 and "resume" not in totp_api.json()
    assert "<li><code>" not in recovery.text and "<svg" not in totp_page.text
    assert "secret" not in totp_api.json()
    assert [b.method for b in bank.bindings("alice")] == ["sms", "email"]
    assert bank.sms.outbox == []


def test_passing_the_second_factor_in_one_browser_lifts_no_other_hold(bank):
    attacker, owner = held(bank), held(bank)
    attacker_page = attacker.follow(attacker.get("/"))

    owner.pass_challenge(owner.follow(owner.get("/")), "sms")

    assert owner.get("/transfers").status_code == 200
    assert attacker.get("/transfers").status_code == 303
    assert attacker.get("/stepup/api/status").json()["held"] is True
    assert "Verify it's you" in attacker.get(attacker_page.url).text


def test_a_held_session_with_the_owners_code_in_another_session_is_still_held(bank):
    """The code the owner received answers the owner's challenge only: typed into the
    attacker's own challenge, it is a wrong code."""
    attacker, owner = held(bank), held(bank)
    attacker_url = attacker.choose(attacker.follow(attacker.get("/")), "sms").location
    owner.choose(owner.follow(owner.get("/")), "sms")

    guessed = attacker.enter(attacker_url, bank.code("sms"))

    assert guessed.status_code == 400 and "2 attempts left" in guessed.text
    assert attacker.get("/").status_code == 303


def test_nothing_runs_for_a_session_that_never_logged_in(bank):
    stranger = bank.browser()

    assert stranger.get("/transfers").location.startswith("/login")
    assert stranger.post("/transfer", data={"to": "mallory", "amount": "1"}).location.startswith("/login")
    assert stranger.get("/stepup/api/status").status_code == 401
    assert stranger.post("/stepup/api/challenges", json={"method": "sms"}).status_code == 401
    assert bank.sms.outbox == []


def test_a_transfer_posted_while_held_is_dropped_not_run_after_the_second_factor(bank):
    browser = held(bank)

    asked = browser.post("/transfer", data={"to": "bob", "amount": "5"})
    landed = browser.pass_challenge(browser.follow(asked), "sms")

    assert asked.location == "/stepup/?next=/"
    assert landed.status_code == 303 and landed.location == "/"
    assert transfers(browser) == []
