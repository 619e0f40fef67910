"""Risky operations: a POST (or PUT, PATCH, DELETE) approved by a one-time code bound to
that exact operation, then run exactly once."""

from __future__ import annotations

import pytest

HTML = {"Accept": "text/html"}


def transfers(browser):
    page = browser.get("/transfers").text
    return [line.split("</li>")[0] for line in page.split("<li>")[1:]]


def start_transfer(browser, to="bob", amount="50"):
    asked = browser.submit(browser.get("/transfer"), "/transfer", to=to, amount=amount)
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r="), asked.status_code
    return browser.follow(asked)


def test_a_transfer_runs_once_after_its_code(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")

    choose = start_transfer(browser)
    assert "Approve this request" in choose.text and "transfer of 50 to bob" in choose.text
    code_url = browser.choose(choose, "sms").location
    assert bank.sms.last.body.startswith("Code ") and "approves transfer of 50 to bob" in bank.sms.last.body
    done = browser.enter(code_url, bank.code("sms"))

    assert done.status_code == 200
    assert "Transferred 50.00 to bob" in done.text
    assert transfers(browser) == ["50.00 to bob"]


def test_neither_the_code_form_nor_the_original_post_transfers_twice(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    code_url = browser.choose(start_transfer(browser), "sms").location
    code = bank.code("sms")
    code_page = browser.get(code_url)
    assert "Transferred" in browser.submit(code_page, "/stepup/code/", code=code).text

    again = browser.submit(code_page, "/stepup/code/", code=code)
    resubmitted = browser.submit(browser.get("/transfer"), "/transfer", to="bob", amount="50")

    assert again.status_code == 410 and "Transferred" not in again.text
    assert resubmitted.status_code == 303 and resubmitted.location.startswith("/stepup/?r=")
    assert transfers(browser) == ["50.00 to bob"]


def test_two_challenges_for_one_request_still_run_it_once(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    choose = start_transfer(browser, amount="20")
    by_sms = browser.choose(choose, "sms").location
    sms_code = bank.code("sms")
    by_email = browser.choose(browser.get(choose.url), "email").location

    sms_form = browser.form(browser.get(by_sms), "/stepup/code/")

    first = browser.enter(by_email, bank.code("email"))
    # The email code approved the transfer: the SMS challenge for it ended with that, so
    # its code approves nothing more, whether its page is reloaded or its form posted.
    second = browser.post(sms_form.action, data={**sms_form.fields, "code": sms_code})

    assert "Transferred 20.00 to bob" in first.text
    assert second.status_code == 410 and "Transferred" not in second.text
    assert "Transferred" not in browser.get(by_sms).text
    assert transfers(browser) == ["20.00 to bob"]


def test_each_transfer_needs_its_own_code(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    for amount in ("10", "11"):
        browser.pass_challenge(start_transfer(browser, amount=amount), "email")

    assert transfers(browser) == ["10.00 to bob", "11.00 to bob"]


def test_the_replay_runs_through_the_apps_hooks_and_error_handlers(lab, lab_records):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab.clock.advance(61)

    asked = browser.open("/items/locked", "DELETE", json={"reason": "tidy up"}, headers=HTML)
    assert asked.status_code == 303
    replayed = browser.pass_challenge(browser.follow(asked), "sms")

    assert replayed.status_code == 423
    assert replayed.json() == {"error": "This item is locked."}
    assert lab_records.seen.count("DELETE /items/locked") == 2  # the original and its one replay


@pytest.mark.parametrize("verb", ["PUT", "PATCH"])
def test_a_json_body_is_replayed_once(lab, lab_records, verb):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab_records.items["7"] = {"name": "lamp", "colour": "white"}

    asked = browser.open("/items/7", verb, json={"name": "lamp", "colour": "red"}, headers=HTML)
    choose = browser.follow(asked)
    assert "update of lamp" in choose.text
    replayed = browser.pass_challenge(choose, "email")

    assert replayed.status_code == 200
    assert replayed.json() == {"item": "7", "name": "lamp", "colour": "red"}
    assert lab_records.seen.count(f"{verb} /items/7") == 2


def test_a_delete_with_a_json_body_is_replayed(lab, lab_records):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab.clock.advance(61)
    lab_records.items["9"] = {"name": "chair"}

    asked = browser.open("/items/9", "DELETE", json={"reason": "broken"}, headers=HTML)
    replayed = browser.pass_challenge(browser.follow(asked), "sms")

    assert replayed.json() == {"deleted": "9"}
    assert "9" not in lab_records.items


def test_a_body_over_64_kib_is_refused_with_413(bank, lab):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    big = browser.submit(browser.get("/transfer"), "/transfer", to="x" * 70_000, amount="1")
    assert big.status_code == 413
    assert "too large" in big.text

    api = lab.browser()
    api.sign_in("dana", "sms")
    big_json = api.post("/pay", json={"to": "bob", "amount": "1", "memo": "x" * 70_000})
    assert big_json.status_code == 413
    assert big_json.headers["Content-Type"] == "application/problem+json"
    assert big_json.json()["status"] == 413
    assert transfers(browser) == ["No transfers yet."]


# -- JSON clients ----------------------------------------------------------------------


def approve_payment(lab, browser, payment):
    asked = browser.post("/pay", json=payment)
    assert asked.status_code == 401 and "resume" in asked.json()
    assert 'error="insufficient_user_authentication"' in asked.headers["WWW-Authenticate"]
    created = browser.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]})
    assert created.status_code == 201
    assert created.json()["purpose"] == "operation"
    assert created.json()["operation"] == f"payment of {payment['amount']} to {payment['to']}"
    verified = browser.post(created.json()["verify_url"], json={"code": lab.code("sms")})
    assert verified.status_code == 200 and verified.json()["purpose"] == "operation"
    return {"Stepup-Approval": verified.json()["approval"]}


def test_a_json_operation_runs_once_with_its_approval(lab, lab_records):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    payment = {"to": "bob", "amount": "50.00"}

    approval = approve_payment(lab, browser, payment)
    assert "approves payment of 50.00 to bob" in lab.sms.last.body
    paid = browser.post("/pay", json=payment, headers=approval)
    again = browser.post("/pay", json=payment, headers=approval)

    assert paid.status_code == 200 and paid.json() == {"paid": "50.00", "to": "bob"}
    assert again.status_code == 410 and again.json()["code"] == "challenge_closed"
    assert lab_records.payments == [("bob", "50.00")]


def test_an_approval_does_not_pass_another_amount(lab, lab_records):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    approval = approve_payment(lab, browser, {"to": "bob", "amount": "50.00"})

    other = browser.post("/pay", json={"to": "bob", "amount": "5000.00"}, headers=approval)
    right = browser.post("/pay", json={"to": "bob", "amount": "50.00"}, headers=approval)

    assert other.status_code == 403 and other.json()["code"] == "operation_mismatch"
    assert right.status_code == 200
    assert lab_records.payments == [("bob", "50.00")]


def test_an_approval_works_only_in_its_own_session(lab, lab_records):
    browser, thief = lab.browser(), lab.browser()
    browser.sign_in("dana", "sms")
    thief.sign_in("dana", "email")
    payment = {"to": "bob", "amount": "50.00"}
    approval = approve_payment(lab, browser, payment)

    stolen = thief.post("/pay", json=payment, headers=approval)
    forged = thief.post("/pay", json=payment, headers={"Stepup-Approval": approval["Stepup-Approval"][:-2] + "xx"})

    assert stolen.status_code == 403 and forged.status_code == 403
    assert lab_records.payments == []
