"""Passkeys on the pages and the JSON API of both adapters, with a software authenticator:
carol adds one on the account page after a fresh factor, signs in with her password and
it, steps up, approves one transfer once, renames and removes it."""

from __future__ import annotations

import json

from tests.support.authenticator import SoftAuthenticator
from tests.support.passkeys import ORIGIN, PASSKEYS, add_passkey, use_passkey


def test_carol_adds_a_passkey_and_signs_in_with_it(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    added = add_passkey(passkey_bank, browser, device, name="Carol's phone")
    assert added.status_code == 303 and added.location == "/stepup/account?added=1"
    account = browser.follow(added)
    row = next(r for r in account.text.split("<tr>") if "Carol&#39;s phone" in r)
    assert "<td>never</td>" in row  # added just now, not used yet
    browser.logout()

    browser.login("carol")
    choose = browser.follow(browser.get("/"))
    assert browser.offered(choose)[0].startswith("Passkey")  # offered first
    code_page = browser.follow(browser.choose(choose, "passkey"))
    assert "Use your passkey" in code_page.text
    landed = use_passkey(browser, code_page, device)
    assert landed.status_code == 303
    assert browser.follow(landed).status_code == 200
    row = next(r for r in browser.get("/stepup/account").text.split("<tr>") if "Carol&#39;s phone" in r)
    assert "<td>never</td>" not in row  # its last use is shown


def test_adding_a_passkey_needs_a_fresh_factor(passkey_bank):
    browser = passkey_bank.browser()
    browser.sign_in("carol", "totp")
    passkey_bank.clock.advance(301)
    asked = browser.get("/stepup/passkeys/add")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    assert not [b for b in passkey_bank.bindings("carol") if b.method == "passkey"]


def test_a_transfer_approved_by_passkey_runs_once(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    add_passkey(passkey_bank, browser, device)
    form = browser.get("/transfer")
    stopped = browser.submit(form, "/transfer", to="bob", amount="12.50")
    choose = browser.follow(stopped)
    code_page = browser.follow(browser.choose(choose, "passkey"))
    assert "12.50" in code_page.text
    done = use_passkey(browser, code_page, device)
    assert "Transferred 12.50 to bob" in done.text
    again = use_passkey(browser, code_page, device)
    assert again.status_code in (400, 410)
    assert browser.get("/transfers").text.count("12.50") == 1


def test_a_wrong_passkey_is_refused_with_attempts_left(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    add_passkey(passkey_bank, browser, device)
    browser.logout()
    browser.login("carol")
    code_page = browser.follow(browser.choose(browser.follow(browser.get("/")), "passkey"))
    refused = use_passkey(browser, code_page, device, origin="http://evil.example")
    assert refused.status_code == 400 and "This passkey was not accepted. 2 attempts left." in refused.text


def test_renaming_and_removing_a_passkey(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    add_passkey(passkey_bank, browser, device)
    passkey = next(b for b in passkey_bank.bindings("carol") if b.method == "passkey")
    account = browser.get("/stepup/account")
    renamed = browser.submit(account, f"/stepup/passkeys/{passkey.id}/rename", name="Laptop")
    assert renamed.location == "/stepup/account?renamed=1"
    assert ("passkey", "Laptop") in [(b.method, b.label) for b in passkey_bank.bindings("carol")]
    removed = browser.submit(browser.get("/stepup/account"), f"/stepup/account/remove/{passkey.id}")
    assert removed.location == "/stepup/account?removed=1"
    assert [b.method for b in passkey_bank.bindings("carol")] == ["totp"]


def test_the_script_is_served_from_stepups_static_route(passkey_bank):
    browser = passkey_bank.browser()
    script = browser.get("/stepup/static/passkeys.js")
    assert script.status_code == 200 and "navigator.credentials" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert browser.get("/stepup/static/../app.py").status_code == 404
    assert browser.get("/stepup/static/other.js").status_code == 404


def test_a_single_page_app_uses_the_json_api(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    add_passkey(passkey_bank, browser, device)
    passkey_bank.clock.advance(301)
    stopped = browser.get("/api/balance", headers={"Accept": "application/json"})
    assert stopped.status_code == 401
    created = browser.post("/stepup/api/challenges", json={"method": "passkey", "resume": stopped.json()["resume"]})
    assert created.status_code == 201, created.text
    token = created.json()["id"]
    options = browser.get(f"/stepup/api/challenges/{token}/passkey").json()["publicKey"]
    credential = json.loads(device.get(options))
    verified = browser.post(f"/stepup/api/challenges/{token}/verify", json={"credential": credential})
    assert verified.status_code == 200 and verified.json()["method"] == "passkey"
    assert browser.get("/api/balance", headers={"Accept": "application/json"}).status_code == 200


def test_a_single_page_app_adds_a_passkey_through_the_json_api(passkey_bank):
    browser, device = passkey_bank.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("carol", "totp")
    started = browser.post("/stepup/api/bindings", json={"method": "passkey"})
    assert started.status_code in (200, 201), started.text
    token = started.json()["id"]
    options = browser.get(f"/stepup/api/challenges/{token}/passkey").json()["publicKey"]
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    credential = json.loads(device.create(options))
    verified = browser.post(f"/stepup/api/challenges/{token}/verify", json={"credential": credential})
    assert verified.status_code == 200 and verified.json()["binding"]["method"] == "passkey"
    assert [b.method for b in passkey_bank.bindings("carol")] == ["totp", "passkey"]


def test_a_route_that_accepts_only_passkeys_takes_no_other_factor(make_lab):
    lab = make_lab(STEPUP_METHODS="sms,email,totp,recovery,passkey", **PASSKEYS)
    browser, device = lab.browser(), SoftAuthenticator(ORIGIN)
    browser.sign_in("erin", "totp")
    asked = browser.get("/passkey-only")
    assert asked.status_code == 303  # a fresh TOTP grant is not what this route accepts
    add_passkey(lab, browser, device)  # creating it proves it too, as a new TOTP's first code does
    assert browser.get("/passkey-only").text == "Verified by passkey"
    lab.clock.advance(61)
    choose = browser.follow(browser.get("/passkey-only"))
    assert browser.offered(choose) == ["Passkey"]
    landed = use_passkey(browser, browser.follow(browser.choose(choose, "passkey")), device)
    assert browser.follow(landed).text == "Verified by passkey"
