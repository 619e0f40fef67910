"""A method an admin switches off in another process (the ``stepup`` command, another
instance) stops, once the policy is read again (``policy_refresh``), what it had started
or proved: its pending codes are refused, its operation approvals run nothing, its fresh
factor opens no binding change or admin page, and a browser remembered at a login that
passed by it lifts no later login's hold. On both adapters."""

from __future__ import annotations

from pathlib import Path

import pytest

import stepup
from stepup.senders import MemorySender
from tests.support.banks import SECRET_KEY
from tests.support.flows import PROBLEM, ask_transfer, challenge, held, signed_in

JSON = {"Accept": "application/json"}


def elsewhere(site, tmp_path: Path) -> stepup.Engine:
    """Another engine on the site's store: another instance, or the ``stepup`` command."""
    return stepup.Engine(
        secret_key=SECRET_KEY, store_url=f"sqlite:///{tmp_path}/stepup.sqlite3", clock=site.clock,
        sms=MemorySender(), email=MemorySender(),
    )  # fmt: skip


def switch_elsewhere(site, tmp_path: Path, method: str, on: bool, *scope: str) -> None:
    """Switch ``method`` as the ``stepup`` command does, through another engine on the
    site's store, and let ``policy_refresh`` pass."""
    other = elsewhere(site, tmp_path)
    try:
        other.set_method(method, on, *scope)
    finally:
        other.close()
    site.clock.advance(site.engine.settings.policy_refresh)


def ledger(browser) -> list[str]:
    """The transfers the bank's ledger page lists for the browser's user."""
    page = browser.get("/transfers")
    assert page.status_code == 200, (page.status_code, page.location)
    return [line.split("</li>")[0] for line in page.text.split("<li>")[1:] if "No transfers" not in line]


def asked_by_json(browser, amount: str) -> dict:
    """A transfer to mallory asked for as a JSON client, and its SMS challenge started."""
    fields = {**browser.form(browser.get("/transfer"), "/transfer").fields, "to": "mallory", "amount": amount}
    asked = browser.post("/transfer", data=fields, headers=JSON)
    assert asked.status_code == 401, asked.text
    return {"fields": fields, **challenge(browser, method="sms", resume=asked.json()["resume"])}


# -- 1. codes and approvals of a method switched off for their app --------------------------------


def test_a_method_switched_off_for_an_app_stops_its_approvals_and_pending_codes(bank, tmp_path):
    browser = signed_in(bank, "alice", "sms")
    a = asked_by_json(browser, "11.00")
    verified = browser.post(a["verify_url"], json={"code": bank.code("sms")})
    approval = verified.json()["approval"]
    b = asked_by_json(browser, "12.00")
    b_code = bank.code("sms")
    c_url = browser.choose(browser.follow(ask_transfer(browser, to="mallory", amount="13.00")), "sms").location
    c_code = bank.code("sms")

    switch_elsewhere(bank, tmp_path, "sms", False, "app", "bank")

    assert browser.get("/").status_code == 303  # the SMS grant no longer opens the bank
    header = browser.post("/transfer", data=a["fields"], headers={"Stepup-Approval": approval})
    assert header.status_code == 403 and header.headers["Content-Type"].startswith(PROBLEM)
    assert header.json()["code"] == "method_not_accepted"
    api = browser.post(b["verify_url"], json={"code": b_code})
    assert api.status_code == 422 and api.json()["code"] == "method_not_available"
    page = browser.enter(c_url, c_code)
    assert page.status_code == 422 and "sms is switched off here now" in page.text
    assert ledger(browser) == []

    # Nothing was used up by the refusals: with SMS back on, each goes through once.
    switch_elsewhere(bank, tmp_path, "sms", True, "app", "bank")
    assert browser.post("/transfer", data=a["fields"], headers={"Stepup-Approval": approval}).status_code == 200
    assert browser.post(b["verify_url"], json={"code": b_code}).status_code == 200
    assert ledger(browser) == ["11.00 to mallory"]


def test_a_login_code_of_a_method_switched_off_does_not_lift_the_hold(bank, tmp_path):
    browser = held(bank, "alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    code = bank.code("sms")

    switch_elsewhere(bank, tmp_path, "sms", False)

    refused = browser.enter(code_url, code)
    assert refused.status_code == 422 and "switched off" in refused.text
    stopped = browser.get("/")
    assert stopped.status_code == 303 and stopped.location == "/stepup/?next=/"
    assert browser.offered(browser.follow(stopped)) == ["Email: a•••@example.com"]


def test_the_route_a_challenge_was_started_for_decides_its_code_and_its_approval(engine_factory, sms, last_code):
    engine = engine_factory()
    engine.import_binding("alice", "sms", "+447400123456")
    started = engine.start("alice", "sms", "operation", operation="pay", session="n", app="bank", route="pay")
    code = last_code(sms)
    engine.set_method("sms", False, "route", "pay")

    with pytest.raises(stepup.MethodNotAvailable):
        engine.verify(started.id, code, subject="alice", session="n")
    engine.set_method("sms", True, "route", "pay")
    engine.verify(started.id, code, subject="alice", session="n")  # the refusal used no attempt
    engine.set_method("sms", False, "route", "pay")
    with pytest.raises(stepup.MethodNotAccepted):
        engine.consume(started.id, subject="alice", session="n", operation_data="pay")


# -- 2. a fresh factor of a method switched off ---------------------------------------------------


def test_a_fresh_factor_of_a_method_switched_off_opens_no_admin_page_or_binding_change(bank, tmp_path):
    browser = signed_in(bank, "alice", "sms")
    assert browser.get("/stepup/admin").status_code == 200
    emails = len(bank.email.outbox)

    switch_elsewhere(bank, tmp_path, "sms", False)

    admin = browser.get("/stepup/admin")
    assert admin.status_code == 303 and admin.location.startswith("/stepup/?r=")
    assert browser.offered(browser.follow(admin)) == ["Email: a•••@example.com"]
    bind = browser.post("/stepup/api/bindings", json={"method": "email", "target": "mallory@example.org"})
    assert bind.status_code == 401 and bind.json()["code"] == "insufficient_user_authentication"
    assert len(bank.email.outbox) == emails
    assert [b.method for b in bank.bindings("alice")] == ["sms", "email"]


# -- 3. a browser remembered at a login by a method switched off ----------------------------------


def remembered_at_an_sms_login(bank):
    """A browser of alice's that signed in by SMS with "remember this browser" ticked."""
    browser = held(bank, "alice")
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    assert browser.enter(code_url, bank.code("sms"), remember="y").status_code == 303
    return browser


def test_a_browser_remembered_at_an_sms_login_does_not_lift_the_hold_once_sms_is_off(make_bank, tmp_path):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    browser = remembered_at_an_sms_login(bank)
    browser.logout()
    browser.login("alice")
    assert browser.get("/transfers").status_code == 200  # remembered: no second factor

    switch_elsewhere(bank, tmp_path, "sms", False)
    browser.logout()
    browser.login("alice")

    stopped = browser.get("/transfers")
    assert stopped.status_code == 303 and stopped.location == "/stepup/?next=/transfers"
    assert browser.offered(browser.follow(stopped)) == ["Email: a•••@example.com"]


def test_a_browser_remembered_before_its_record_named_methods_lifts_no_hold(make_bank, tmp_path):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    browser = remembered_at_an_sms_login(bank)

    def as_written_before(record):
        return {"browsers": [{k: v for k, v in b.items() if k != "methods"} for b in record["browsers"]]}, None

    other = elsewhere(bank, tmp_path)
    try:
        other.store.update("device", "alice", as_written_before)
    finally:
        other.close()
    browser.logout()
    browser.login("alice")

    assert browser.get("/transfers").location == "/stepup/?next=/transfers"
    assert len(bank.call("devices", "alice")) == 1  # still listed, to be forgotten by hand
