"""A workflow's next step on the web, on both adapters: the bank runs ``sms:120,voice`` for
its logins, so alice's code page offers "Call me instead (in 120 s)" and the JSON API's
challenge says ``next_event``; the step fires when asked once it is due, with the same code,
never before (429 with the seconds left), and only with its CSRF token or a JSON body."""

from __future__ import annotations

import re

from tests.support.flows import held

PROBLEM = "application/problem+json"
ALICE = "+447700900001"


def _code_page(bank):
    """alice after her password, on the code page of her SMS login code."""
    browser = bank.browser()
    browser.login("alice")
    url = browser.choose(browser.follow(browser.get("/")), "sms").location
    return browser, url, browser.get(url)


def _button(page) -> str:
    found = re.search(r'<button[^>]*id="next-step"[^>]*>([^<]*)</button>', page.text)
    assert found is not None, page.text
    return found.group(0)


# -- the JSON API -----------------------------------------------------------------------------


def test_the_api_says_what_comes_next_and_when(bank):
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()

    assert created["next_event"] == {"channel": "voice", "at": bank.clock() + 120, "in": 120}


def test_the_next_step_fires_when_due_with_the_same_code(bank):
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()
    next_url = created["verify_url"].replace("/verify", "/next")
    code = bank.code("sms")

    early = alice.post(next_url, json={})
    bank.clock.advance(120)
    fired = alice.post(next_url, json={})

    assert early.status_code == 429 and early.headers["Content-Type"].startswith(PROBLEM)
    assert early.json()["code"] == "step_not_due" and early.headers["Retry-After"] == "120"
    assert fired.status_code == 200 and fired.json()["next_event"] is None
    call = bank.voice.outbox[-1]
    assert (call.channel, call.to) == ("voice", ALICE) and code in re.sub(r"\D", "", call.body)
    verified = alice.post(created["verify_url"], json={"code": code})
    assert verified.status_code == 200 and verified.json()["approved"] is True


def test_the_next_step_takes_only_json(bank):
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()
    bank.clock.advance(120)

    form = alice.post(created["verify_url"].replace("/verify", "/next"), data={"x": "1"})

    assert form.status_code == 415
    assert bank.voice.outbox == []


def test_a_challenge_without_a_workflow_has_no_next_step(make_bank):
    bank = make_bank(STEPUP_WORKFLOWS_BY_PURPOSE="{}")
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()

    asked = alice.post(created["verify_url"].replace("/verify", "/next"), json={})

    assert created["next_event"] is None
    assert asked.status_code == 409 and asked.json()["code"] == "no_step_left"


def test_another_persons_challenge_fires_nothing(bank):
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()
    bank.clock.advance(120)

    stranger = bank.browser().post(created["verify_url"].replace("/verify", "/next"), json={})

    assert stranger.status_code == 401
    assert bank.voice.outbox == []


# -- the code page ----------------------------------------------------------------------------


def test_the_code_page_offers_a_call_with_its_countdown(bank):
    _, _, page = _code_page(bank)
    button = _button(page)

    assert "Call me instead (in 120 s)" in button
    assert 'data-wait="120"' in button and 'data-label="Call me instead"' in button
    assert "disabled" not in button  # held by the script; without it a press is answered
    assert re.search(r'<script src="/stepup/static/next-step.js"></script>', page.text)
    script = bank.browser().get("/stepup/static/next-step.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")


def test_a_press_before_it_is_due_says_how_long_is_left(bank):
    browser, url, page = _code_page(bank)
    bank.clock.advance(75)

    early = browser.submit(page, "/next")

    assert early.status_code == 429
    assert "45 s" in early.text
    assert bank.voice.outbox == []


def test_a_press_when_due_calls_with_the_same_code(bank):
    browser, url, page = _code_page(bank)
    code = bank.code("sms")
    bank.clock.advance(120)

    pressed = browser.submit(page, "/next")
    after = browser.get(pressed.location)

    assert pressed.status_code == 303 and pressed.location.endswith("?step=1")
    assert "We are calling you with the code." in after.text
    assert 'id="next-step"' not in after.text  # nothing comes after the call
    assert code in re.sub(r"\D", "", bank.voice.outbox[-1].body)
    assert browser.enter(url, code).status_code == 303


def test_the_press_needs_its_csrf_token(bank):
    browser, url, page = _code_page(bank)
    bank.clock.advance(120)
    fields = browser.form(page, "/next").fields
    fields.pop("csrf_token")

    refused = browser.post(url + "/next", data=fields)

    assert refused.status_code == 400
    assert bank.voice.outbox == []
