"""'Remember this browser': a login code page offers it when STEPUP_TRUSTED_DEVICE_DAYS is
set; the next login from that browser is not held, until a binding changes."""

from __future__ import annotations

import pytest


@pytest.fixture
def bank30(make_bank):
    return make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)


def login_page_code(browser, user="alice", method="sms"):
    browser.login(user)
    return browser.choose(browser.follow(browser.get("/")), method).location


def remembered(bank30, user="alice", method="sms"):
    browser = bank30.browser()
    code_url = login_page_code(browser, user, method)
    done = browser.enter(code_url, bank30.code(method, user), remember="y")
    assert done.status_code == 303
    return browser, done


def test_the_login_code_page_offers_to_remember_the_browser(bank30, bank):
    browser = bank30.browser()
    page = browser.get(login_page_code(browser))
    assert "Remember this browser for 30 days" in page.text
    assert "remember" in browser.form(page, "/stepup/code/").checkboxes

    plain = bank.browser()
    assert "Remember this browser" not in plain.get(login_page_code(plain, "carol", "totp")).text


def test_a_step_up_code_page_does_not_offer_it(bank30):
    browser, _ = remembered(bank30)
    bank30.clock.advance(3601)

    step_up = browser.get(browser.choose(browser.follow(browser.get("/")), "sms").location)

    assert "Enter your code" in step_up.text and "Remember this browser" not in step_up.text


def test_the_next_login_from_a_remembered_browser_is_not_held(bank30):
    browser, done = remembered(bank30)
    cookie = next(v for v in done.header_values("Set-Cookie") if v.startswith("stepup_device="))
    assert "HttpOnly" in cookie and "Max-Age=2592000" in cookie and "SameSite=Lax" in cookie
    browser.logout()
    sent = len(bank30.sms.outbox)

    browser.login("alice")

    assert "Your transfers" in browser.get("/transfers").text
    assert browser.get("/stepup/api/status").json()["held"] is False
    assert len(bank30.sms.outbox) == sent


def test_without_the_box_ticked_the_next_login_is_held(bank30):
    browser = bank30.browser()
    browser.enter(login_page_code(browser), bank30.code("sms"))
    browser.logout()

    browser.login("alice")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_the_remembered_browser_is_only_for_its_user(bank30):
    browser, _ = remembered(bank30)
    browser.logout()

    browser.login("carol")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_adding_a_binding_forgets_every_remembered_browser(bank30):
    browser, _ = remembered(bank30)
    sent = browser.submit(browser.get("/stepup/bind/phone"), "", phone="+447700900555")
    assert browser.enter(sent.location, bank30.code("sms")).location == "/stepup/account?added=1"
    browser.logout()

    browser.login("alice")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_a_remembered_browser_is_forgotten_after_its_days(bank30):
    browser, _ = remembered(bank30)
    browser.logout()
    bank30.clock.advance(30 * 86400 + 1)

    browser.login("alice")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"
