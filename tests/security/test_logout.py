"""Logging out, on both adapters: what a copy of the session cookie, saved before the
logout, can still do. Nothing of the login that goes through the store works for it any
more (an unused approval, a pending challenge, a new challenge, a saved request); the grant
it carries itself is checked without I/O and lives until its ``max_age``, as
docs/SECURITY.md says. And "sign out and forget this browser" forgets the browser whether
or not anyone is signed in."""

from __future__ import annotations

import json

import pytest

import stepup
from tests.support.flows import challenge, held, signed_in, transfers

PHONE = "+447400123456"


def _transfer_fields(browser, to: str = "mallory", amount: str = "4321") -> dict[str, str]:
    return {**browser.form(browser.get("/transfer"), "/transfer").fields, "to": to, "amount": amount}


def _unused_approval(bank, browser) -> tuple[dict[str, str], str]:
    """A transfer approved through the JSON API, not yet run."""
    fields = _transfer_fields(browser)
    asked = browser.post("/transfer", data=fields, headers={"Accept": "application/json"})
    assert asked.status_code == 401, (asked.status_code, asked.text)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    verified = browser.post(created["verify_url"], json={"code": bank.code("sms")})
    assert verified.status_code == 200, verified.text
    return fields, verified.json()["approval"]


def _ended(response) -> bool:
    return response.status_code == 403 and response.json()["code"] == "login_ended"


def test_an_unused_approval_dies_at_logout_for_a_copy_of_the_cookie(bank):
    browser = signed_in(bank)
    fields, approval = _unused_approval(bank, browser)
    copy = bank.twin(browser)
    browser.logout()

    taken = copy.post("/transfer", data=fields, headers={"Stepup-Approval": approval})

    assert _ended(taken), (taken.status_code, taken.text[:300])
    assert transfers(signed_in(bank)) == []


def test_a_pending_challenge_dies_at_logout_for_a_copy_of_the_cookie(bank):
    browser = signed_in(bank)
    stopped = browser.submit(browser.get("/transfer"), "/transfer", to="mallory", amount="4321")
    code_url = browser.choose(browser.follow(stopped), "sms").location
    form = browser.form(browser.get(code_url), "/stepup/code/")
    copy = bank.twin(browser)
    browser.logout()

    entered = copy.post(form.action, data={**form.fields, "code": bank.code("sms")})

    assert entered.status_code == 403 and "This sign-in has ended" in entered.text
    assert copy.get(code_url).status_code == 403
    assert transfers(signed_in(bank)) == []


def test_a_copy_of_the_cookie_keeps_its_grant_until_max_age_and_cannot_renew_it(bank):
    browser = signed_in(bank)
    copy = bank.twin(browser)
    browser.logout()
    assert copy.get("/api/balance", headers={"Accept": "application/json"}).status_code == 200  # documented
    bank.clock.advance(301)  # past /api/balance's max_age

    asked = copy.get("/api/balance", headers={"Accept": "application/json"})
    started = copy.post("/stepup/api/challenges", json={"method": "sms"})

    assert _ended(asked), (asked.status_code, asked.text[:300])  # no request saved to resume
    assert _ended(started), (started.status_code, started.text[:300])


def test_a_held_login_that_logged_out_gets_no_second_factor_through_a_copy(bank):
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    form = browser.form(browser.get(code_url), "/stepup/code/")
    copy = bank.twin(browser)
    browser.logout()

    entered = copy.post(form.action, data={**form.fields, "code": bank.code("sms")})

    assert entered.status_code == 403 and "This sign-in has ended" in entered.text
    assert copy.get("/transfers").location == "/stepup/?next=/transfers"


def test_the_engine_ends_a_login_and_everything_bound_to_it(engine_factory, sms, last_code):
    engine = engine_factory()
    engine.import_binding("alice", "sms", PHONE)
    pending = engine.start("alice", "sms", "operation", operation="transfer", session="n0nce.1")
    engine.end_login("n0nce")  # the login, whichever renewal of its nonce the session is at

    with pytest.raises(stepup.LoginEnded):
        engine.verify(pending.id, last_code(sms), subject="alice", session="n0nce.1")
    with pytest.raises(stepup.LoginEnded):
        engine.start("alice", "sms", session="n0nce.2")
    with pytest.raises(stepup.LoginEnded):
        engine.save_resume("alice", session="n0nce.1", next_url="/")
    engine.start("alice", "sms", session="another")  # another login is not touched


# -- L. "sign out and forget this browser" when signed out ----------------------------------


def test_forgetting_a_browser_while_signed_out_ends_a_copy_of_its_cookie(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    page = browser.get(code_url)
    form = browser.form(page, "/stepup/code/")
    assert browser.post(form.action, data={**form.fields, "code": bank.code("sms"), "remember": "y"}).status_code == 303
    cookie = browser.cookie("stepup_device")
    browser.logout()
    form = browser.form(browser.get("/logout"), "/stepup/forget-browser")  # signed out now

    forgot = browser.post(form.action, data=form.fields)

    assert forgot.status_code == 307
    assert bank.call("devices", "alice") == []
    browser.set_cookie("stepup_device", cookie)  # a copy kept (or stolen) before
    browser.login("alice")
    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_a_copy_of_the_cookie_with_a_fresh_factor_changes_no_method_code_or_policy_after_logout(bank):
    # The fresh factor rides in the cookie, so the copy still holds it; but every page that
    # changes methods, recovery codes or the policy goes to the store, and the store knows
    # the login ended. (alice is the bank's admin.)
    bank.call("import_binding", "carol", "sms", "+447700900333")
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    token = browser.form(browser.get("/logout"), "/logout").fields["csrf_token"]  # the session's one
    email = next(b for b in bank.bindings("alice") if b.method == "email")
    carols = [b.method for b in bank.bindings("carol")]
    copy = bank.twin(browser)
    browser.logout()

    answers = {
        "recovery codes": copy.post("/stepup/recovery-codes", data={"csrf_token": token}),
        "unbind over the API": copy.open(f"/stepup/api/bindings/{email.id}", "DELETE"),
        "console look": copy.get("/stepup/admin/support?subject=carol"),
        "console reset": copy.post(
            "/stepup/admin/support",
            data={"csrf_token": token, "subject": "carol", "action": "reset_all", "binding_id": "", "method": ""},
        ),
        "policy": copy.post(
            "/stepup/admin",
            data={"csrf_token": token, "scope": "global", "setting": "method:email", "enabled": "off"},
        ),
    }

    assert {what: a.status_code for what, a in answers.items()} == dict.fromkeys(answers, 403)
    assert all("This sign-in has ended" in a.text for a in answers.values())
    assert [b.method for b in bank.bindings("alice")] == ["sms", "email"]
    assert [b.method for b in bank.bindings("carol")] == carols and "sms" in carols
    assert "email" in bank.call("policy").methods()
    assert not [e for e in bank.call("audit_events", "carol") if e.type in ("admin_action", "admin_viewed")][1:]


def test_rotating_the_key_signs_nobody_out_and_a_logout_then_still_ends_the_login(make_bank, monkeypatch):
    # The bank signs its own session cookie with stepup's keys: a rotation (a JSON list,
    # newest last) must keep reading the cookies of the old key, or every user is signed
    # out and their logout finds no login to end (a copy then keeps the login's challenges).
    before, after = "bank-key-before-the-rotation-0123456789", "bank-key-after-the-rotation-abcdefghij"
    monkeypatch.setenv("STEPUP_SECRET_KEY", before)  # as the bank is run: from its environment
    old = make_bank(STEPUP_SECRET_KEY=before)
    browser = old.browser()
    browser.sign_in("alice", "sms")
    stopped = browser.submit(browser.get("/transfer"), "/transfer", to="mallory", amount="12")
    code_url = browser.choose(browser.follow(stopped), "sms").location

    monkeypatch.setenv("STEPUP_SECRET_KEY", json.dumps([before, after]))
    rotated = make_bank(STEPUP_SECRET_KEY=json.dumps([before, after]))
    same = rotated.twin(browser)
    assert same.get("/transfers").status_code == 200  # still signed in
    copy = rotated.twin(same)
    form = copy.form(copy.get(code_url), "/stepup/code/")
    same.logout()

    entered = copy.post(form.action, data={**form.fields, "code": rotated.code("sms")})
    assert entered.status_code == 403 and "This sign-in has ended" in entered.text
