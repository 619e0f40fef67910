"""The policy holds in every scope it names, on both adapters: 2FA at login per app, a
route's ``methods=`` against the email fallback, and a method switched off for an app
against the grants already in sessions."""

from __future__ import annotations

import stepup

GATEWAY_DOWN = stepup.DeliveryError("The SMS could not be sent.", "sms", "gateway timeout")
JSON = {"Accept": "application/json"}


# -- 2FA at login, per app ---------------------------------------------------------------------


def test_login_2fa_on_for_one_app_holds_a_password_login_there_only(make_lab):
    lab = make_lab(STEPUP_LOGIN_2FA=False)
    lab.call("set_login_2fa", True, "app", "lobby")
    browser = lab.browser()
    browser.login("dana")

    held = browser.get("/lobby/")
    elsewhere = browser.get("/")  # a request of no app: the global setting, off

    assert held.status_code == 303 and held.location == "/stepup/?next=/lobby/"
    assert elsewhere.status_code == 200 and "Home of dana" in elsewhere.text
    vault = browser.get("/vault/")  # another app, which asks none at login: its routes' step-up
    assert vault.status_code == 303 and vault.location.startswith("/stepup/?r=")
    # Held in the lobby, then another app: the hold stays with the login, and one second
    # factor lifts it for every app.
    choose = browser.follow(browser.get("/lobby/"))
    landed = browser.pass_challenge(choose, "sms")
    assert landed.status_code == 303 and landed.location == "/lobby/"
    assert browser.get("/lobby/").text == "The lobby"


def test_login_2fa_off_for_one_app_lets_a_password_login_into_it_only(make_lab):
    lab = make_lab()
    lab.call("set_login_2fa", False, "app", "lobby")
    browser = lab.browser()
    browser.login("dana")

    lobby = browser.get("/lobby/")
    held = browser.get("/")

    assert lobby.status_code == 200 and lobby.text == "The lobby"
    assert held.status_code == 303 and held.location == "/stepup/?next=/"
    json_held = browser.get("/", headers=JSON)
    assert json_held.status_code == 401 and "resume" not in json_held.json()


def test_a_refused_login_is_refused_only_where_2fa_is_asked(make_lab):
    lab = make_lab(STEPUP_LOGIN_2FA=False, STEPUP_BIND_ON_FIRST_LOGIN=False)
    lab.call("set_login_2fa", True, "app", "lobby")
    browser = lab.browser()
    browser.login("finn")  # nothing bound, and no binding at login

    refused = browser.get("/lobby/", headers=JSON)

    assert refused.status_code == 403 and refused.json()["reason"] == "nothing_bound"
    assert browser.get("/").status_code == 200


# -- a route's methods and the email fallback ---------------------------------------------------


def _pay_by_sms(lab):
    """dana, signed in by SMS, asks to pay through the route that accepts only SMS, and
    the SMS provider is down from then on."""
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab.sms.fail_with = GATEWAY_DOWN
    return browser


def test_a_route_that_accepts_only_sms_gets_no_email_code_when_sms_fails(make_lab):
    lab = make_lab(STEPUP_FALLBACK_TO_EMAIL=True)
    browser = _pay_by_sms(lab)
    emails = len(lab.email.outbox)
    choose = browser.follow(browser.post("/pay-by-sms", data={"to": "erin", "amount": "5"}))
    assert browser.offered(choose) == ["Text message: +44 •••• ••0101"]

    chose = browser.submit(choose, "/stepup/", binding=browser.form(choose, "/stepup/").radios["binding"][0][0])

    assert chose.status_code == 503 and "could not be sent" in chose.text
    assert len(lab.email.outbox) == emails
    assert lab.records.payments == []


def test_the_json_api_starts_no_email_fallback_for_a_route_that_accepts_only_sms(make_lab):
    lab = make_lab(STEPUP_FALLBACK_TO_EMAIL=True)
    browser = _pay_by_sms(lab)
    emails = len(lab.email.outbox)
    asked = browser.post("/pay-by-sms", json={"to": "erin", "amount": "5"}, headers=JSON)
    assert asked.status_code == 401

    created = browser.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]})

    assert created.status_code == 503 and created.json()["code"] == "delivery_failed"
    assert len(lab.email.outbox) == emails
    assert lab.records.payments == []


# -- a method switched off for an app ---------------------------------------------------------------


def test_a_grant_of_a_method_switched_off_for_an_app_no_longer_opens_it(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    assert browser.get("/vault/keys").text == "The keys"

    lab.call("set_method", "sms", False, "app", "vault")

    stopped = browser.get("/vault/keys")
    assert stopped.status_code == 303 and stopped.location.startswith("/stepup/?r=")
    assert browser.offered(browser.follow(stopped)) == ["Email: d•••@example.com"]
    assert browser.get("/report").text == "The quarterly report"  # SMS is still on elsewhere
    assert browser.get("/vault/keys", headers=JSON).status_code == 401
    lab.call("set_method", "sms", True, "subject", "dana")  # the most specific scope wins
    assert browser.get("/vault/keys").text == "The keys"


def test_a_method_switched_off_for_an_app_by_its_admin_page_applies_at_once(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    assert browser.get("/vault/").text == "The vault"
    page = browser.get("/stepup/admin")

    saved = browser.press(page, scope="app", name="vault", setting="method:sms")

    assert saved.status_code == 303
    assert browser.get("/vault/").status_code == 303
