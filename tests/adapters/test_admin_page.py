"""The admin page: policy switches at run time, globally, per blueprint, per identity source."""

from __future__ import annotations

import re

import pytest

JSON = {"Accept": "application/json"}


@pytest.fixture
def admin(bank):
    """alice, signed in, on the admin page: ``(browser, page)``."""
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    page = browser.get("/stepup/admin")
    assert page.status_code == 200
    return browser, page


def switch(browser, page, scope, setting, name=""):
    saved = browser.press(page, scope=scope, name=name, setting=setting)
    assert saved.status_code == 303 and saved.location == "/stepup/admin?saved=1", saved.status_code
    return browser.follow(saved)


def test_only_admins_reach_the_admin_page(bank):
    carol = bank.browser()
    carol.sign_in("carol", "totp")
    nobody = bank.browser()

    refused = carol.get("/stepup/admin")
    assert refused.status_code == 403 and "Only administrators" in refused.text
    assert (
        carol.post("/stepup/admin", data={"scope": "global", "setting": "method:sms", "enabled": "off"}).status_code
        == 403
    )
    assert nobody.get("/stepup/admin").status_code == 401
    assert "sms" in bank.policy().methods()


def test_the_banks_admin_link_leads_to_the_admin_page(admin):
    browser, page = admin
    moved = browser.get("/admin/security")

    assert moved.status_code == 303 and moved.location == "/stepup/admin"
    assert "Security settings" in page.text
    for row in ("Everywhere", "bank", "api"):
        assert f'<th scope="row">{row}</th>' in page.text


def test_a_login_waiting_for_its_second_factor_cannot_reach_the_admin_page(bank):
    browser = bank.browser()
    browser.login("alice")

    held = browser.get("/stepup/admin")

    assert held.status_code == 303 and held.location.startswith("/stepup/?")
    assert "Security settings" not in browser.follow(held).text


def test_switching_sms_off_everywhere(bank, admin):
    browser, page = admin
    stepped = switch(browser, page, "global", "method:sms")
    # alice's SMS factor counts no more: the page asks for one by a method still on.
    assert stepped.status_code == 303 and stepped.location.startswith("/stepup/?r=")
    choose = browser.follow(stepped)
    assert browser.offered(choose) == ["Email: a•••@example.com"]
    after = browser.follow(browser.pass_challenge(choose, "email"))
    assert "Saved." in after.text
    assert 'aria-label="Text message for Everywhere: off, switch on"' in after.text

    texts = len(bank.sms.outbox)
    other = bank.browser()
    other.login("alice")
    choose = other.follow(other.get("/"))
    assert other.offered(choose) == ["Email: a•••@example.com"]
    refused = other.post("/stepup/api/challenges", json={"method": "sms"})
    assert refused.status_code == 422 and refused.json()["code"] == "method_not_available"
    assert len(bank.sms.outbox) == texts

    bob = bank.browser()
    bob.login("bob")
    first = bob.follow(bob.get("/"))
    assert first.status_code == 303 and first.location == "/stepup/bind/email?next=/"
    sent = bob.submit(bob.follow(first), "", email="bob@example.org")
    assert bob.follow(bob.enter(sent.location, bank.code("email"))).text.count("Welcome, bob") == 1
    assert bob.get("/stepup/bind/phone").status_code == 200
    refused = bob.submit(bob.get("/stepup/bind/phone"), "", phone="+447700900999")
    assert refused.status_code == 422 and "switched off" in refused.text
    assert len(bank.sms.outbox) == texts


def test_switching_sms_off_for_one_blueprint(bank, admin):
    browser, page = admin
    switch(browser, page, "app", "method:sms", name="bank")
    bank.clock.advance(3601)

    home = browser.follow(browser.get("/"))
    balance = browser.follow(browser.get("/api/balance"))

    assert browser.offered(home) == ["Email: a•••@example.com"]
    assert browser.offered(balance) == ["Text message: +44 •••• ••0001", "Email: a•••@example.com"]
    assert browser.pass_challenge(balance, "sms").location == "/api/balance"

    switch(browser, browser.get("/stepup/admin"), "app", "method:sms", name="api")
    bank.clock.advance(301)
    asked = browser.get("/api/balance", headers=JSON)
    refused = browser.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]})
    by_email = browser.post("/stepup/api/challenges", json={"method": "email", "resume": asked.json()["resume"]})
    assert refused.status_code == 422 and refused.json()["code"] == "method_not_available"
    assert by_email.status_code == 201


def test_switching_2fa_off_for_password_logins(bank, admin):
    browser, page = admin
    switch(browser, page, "global", "source:password")

    carol = bank.browser()
    carol.login("carol")

    assert "Your transfers" in carol.get("/transfers").text


def test_switching_2fa_at_login_off_and_on(bank, admin):
    browser, page = admin
    off = switch(browser, page, "global", "login_2fa")
    carol = bank.browser()
    carol.login("carol")
    assert carol.get("/transfers").status_code == 200

    switch(browser, off, "global", "login_2fa")
    again = bank.browser()
    again.login("carol")
    assert again.get("/transfers").status_code == 303


def test_a_bad_switch_is_refused_and_changes_nothing(bank, admin):
    browser, page = admin
    token = browser.form(page).fields["csrf_token"]

    unknown = browser.post(
        "/stepup/admin", data={"csrf_token": token, "scope": "global", "setting": "method:fax", "enabled": "off"}
    )
    nameless = browser.post(
        "/stepup/admin",
        data={"csrf_token": token, "scope": "app", "name": "", "setting": "method:sms", "enabled": "off"},
    )
    nonsense = browser.post(
        "/stepup/admin", data={"csrf_token": token, "scope": "global", "setting": "colour", "enabled": "off"}
    )

    assert unknown.status_code == 400 and "Unknown method" in unknown.text
    assert nameless.status_code == 400 and nonsense.status_code == 400
    assert bank.policy().methods(app="bank") == {"sms", "email", "totp", "recovery", "passkey"}


def test_the_admin_page_offers_the_apps_it_finds_without_admin_apps(make_lab):
    lab = make_lab(STEPUP_ADMIN_APPS=())
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    page = browser.get("/stepup/admin")

    # Blueprints on Flask, mounts with routes on Starlette: not stepup's own, not static files.
    assert re.findall(r'<th scope="row">([^<]*)</th>', page.text)[:3] == ["Everywhere", "vault", "lobby"]
    after = switch(browser, page, "app", "login_2fa", name="lobby")
    assert 'aria-label="2FA at sign-in for lobby: off, switch on"' in after.text
    assert lab.policy().login_2fa(app="lobby") is False and lab.policy().login_2fa() is True


def test_apps_named_by_setting_come_first_and_once(make_lab):
    lab = make_lab(STEPUP_ADMIN_APPS=("lobby", "partners"))
    browser = lab.browser()
    browser.sign_in("dana", "sms")

    rows = re.findall(r'<th scope="row">([^<]*)</th>', browser.get("/stepup/admin").text)

    assert rows[:4] == ["Everywhere", "lobby", "partners", "vault"]
