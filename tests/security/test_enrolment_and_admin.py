"""A password alone never enrols a second factor for a subject who has one, nor for anyone
when binding at first login is off; admin changes need a fresh second factor.

Each test signs in with the app's own login (the password) and tries every path that
could bind a method or change the policy: the pages, their forms, the JSON API.
"""

from __future__ import annotations

import logging

import pytest

JSON = {"Accept": "application/json"}
OFF = "switched off; contact support"
NOTHING = "cannot be added with a password alone; contact support"


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="stepup.audit")
    return caplog


def audited(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "stepup.audit" and f"stepup {kind} " in r.getMessage()]


def csrf_of(browser, page):
    return browser.form(page).fields["csrf_token"]


def test_a_subject_whose_methods_are_all_switched_off_is_refused_not_sent_to_bind(bank, audit):
    """SMS and email off everywhere (to make TOTP the default): alice, who has only those,
    must not bind the attacker's authenticator with her password."""
    bank.call("set_method", "sms", False)
    bank.call("set_method", "email", False)
    browser = bank.browser()
    browser.login("alice")

    home = browser.get("/")
    choose = browser.get("/stepup/")
    totp_page = browser.get("/stepup/bind/totp")
    token = browser.form(browser.get("/logout"), "/logout").fields["csrf_token"]
    totp_post = browser.post("/stepup/bind/totp", data={"csrf_token": token})
    codes = browser.post("/stepup/recovery-codes", data={"csrf_token": token})
    totp_api = browser.post("/stepup/api/bindings", json={"method": "totp"})
    login_api = browser.post("/stepup/api/challenges", json={"method": "totp"})

    for page in (home, choose, totp_page):
        assert page.status_code == 403 and OFF in page.text, (page.status_code, page.text[:500])
    assert "<svg" not in totp_page.text and "<svg" not in totp_post.text and totp_post.status_code == 403
    assert "<li><code>" not in codes.text and codes.status_code == 403
    for answer in (totp_api, login_api):
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "sign_in_refused" and answer.json()["reason"] == "methods_off"
        assert "secret" not in answer.json()
    assert browser.get("/transfers").status_code != 200
    assert [b.method for b in bank.bindings("alice")] == ["sms", "email"]
    assert any("subject=alice" in line and "reason=methods_off" in line for line in audited(audit, "login_refused"))


def test_a_json_client_of_such_a_subject_gets_a_problem_document(bank):
    bank.call("set_method", "sms", False)
    bank.call("set_method", "email", False)
    browser = bank.browser()
    browser.login("alice")

    refused = browser.get("/api/balance", headers=JSON)

    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "sign_in_refused" and OFF in refused.json()["title"]


def test_recovery_codes_left_sign_in_before_anything_is_bound(bank):
    """With her methods off, alice's recovery codes are still hers: she signs in with one
    (never by binding first), and may then add a method that is on."""
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    made = browser.submit(browser.get("/stepup/recovery-codes"), "")
    code = made.text.split("<li><code>")[1].split("</code>")[0]
    browser.logout()
    bank.call("set_method", "sms", False)
    bank.call("set_method", "email", False)

    browser.login("alice")
    choose = browser.follow(browser.get("/"))
    assert browser.offered(choose) == ["Recovery code"]
    landed = browser.pass_challenge(choose, "recovery", code)

    assert landed.status_code == 303 and landed.location == "/"
    assert browser.get("/stepup/bind/totp").status_code == 200


def test_with_bind_on_first_login_off_nothing_bound_is_refused_everywhere(make_bank, audit):
    bank = make_bank(STEPUP_BIND_ON_FIRST_LOGIN="0")
    browser = bank.browser()
    browser.login("bob")

    home = browser.get("/")
    bind_page = browser.get("/stepup/bind/phone")
    token = browser.form(browser.get("/logout"), "/logout").fields["csrf_token"]
    phone = browser.post("/stepup/bind/phone", data={"csrf_token": token, "phone": "+447700900222"})
    codes = browser.post("/stepup/recovery-codes", data={"csrf_token": token})
    phone_api = browser.post("/stepup/api/bindings", json={"method": "sms", "target": "+447700900222"})

    assert home.status_code == 403 and NOTHING in home.text
    assert bind_page.status_code == 403 and NOTHING in bind_page.text
    assert phone.status_code == 403 and codes.status_code == 403 and "<li><code>" not in codes.text
    assert phone_api.status_code == 403 and phone_api.json()["reason"] == "nothing_bound"
    assert bank.sms.outbox == [] and bank.bindings("bob") == []
    assert browser.get("/transfers").status_code != 200
    assert any("subject=bob" in line and "reason=nothing_bound" in line for line in audited(audit, "login_refused"))


def test_with_bind_on_first_login_off_a_subject_without_2fa_at_login_just_signs_in(make_bank):
    bank = make_bank(STEPUP_BIND_ON_FIRST_LOGIN="0")
    bank.call("set_login_2fa", False, "subject", "bob")
    browser = bank.browser()

    browser.login("bob")

    assert "Your transfers" in browser.get("/transfers").text


def remembered_admin(make_bank):
    """alice's second login, through the browser she told to remember her, long after her
    last code: not held, and no fresh second factor."""
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    browser = bank.browser()
    browser.login("alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    assert browser.enter(code_url, bank.code("sms"), remember="y").status_code == 303
    browser.logout()
    bank.clock.advance(3600)
    browser.login("alice")
    assert "Your transfers" in browser.get("/transfers").text
    return bank, browser


def test_an_admin_change_through_a_remembered_browser_needs_a_fresh_factor(make_bank, audit):
    bank, browser = remembered_admin(make_bank)

    page = browser.get("/stepup/admin")
    assert page.status_code == 303 and page.location.startswith("/stepup/?r=")
    choose = browser.follow(page)
    token = csrf_of(browser, choose)
    forged = browser.post(
        "/stepup/admin", data={"csrf_token": token, "scope": "global", "setting": "login_2fa", "enabled": "off"}
    )
    assert forged.status_code == 303 and forged.location.startswith("/stepup/?r=")
    assert bank.policy().login_2fa() is True and audited(audit, "policy_changed") == []

    # The change the admin asked for runs once her code passes, and names her.
    done = browser.pass_challenge(browser.follow(forged), "sms")
    assert done.status_code == 303 and done.location == "/stepup/admin?saved=1"
    assert bank.policy().login_2fa() is False
    changes = audited(audit, "policy_changed")
    assert len(changes) == 1 and "subject=alice" in changes[0] and "login_2fa=False" in changes[0]


def test_an_admin_change_after_a_login_without_2fa_needs_a_fresh_factor(bank):
    bank.call("set_login_2fa", False)
    browser = bank.browser()
    browser.login("alice")
    assert "Your transfers" in browser.get("/transfers").text

    page = browser.get("/stepup/admin")
    token = csrf_of(browser, browser.follow(page))
    posted = browser.post(
        "/stepup/admin", data={"csrf_token": token, "scope": "global", "setting": "method:totp", "enabled": "off"}
    )

    assert page.status_code == 303 and posted.status_code == 303 and posted.location.startswith("/stepup/?r=")
    assert "totp" in bank.policy().methods()


def test_an_admin_with_no_second_factor_cannot_change_the_policy(make_lab):
    """dana is the lab's admin; with her bindings gone and 2FA off at login, nothing she
    can do with her password changes the policy."""
    lab = make_lab()
    lab.call("reset", "dana")
    lab.call("set_login_2fa", False)
    browser = lab.browser()
    browser.login("dana")

    page = browser.get("/stepup/admin")
    token = browser.form(browser.get("/stepup/bind/totp")).fields["csrf_token"]
    posted = browser.post(
        "/stepup/admin", data={"csrf_token": token, "scope": "global", "setting": "login_2fa", "enabled": "on"}
    )

    assert page.status_code == 403 and "Add a sign-in method" in page.text
    assert posted.status_code == 403 and lab.policy().login_2fa() is False
