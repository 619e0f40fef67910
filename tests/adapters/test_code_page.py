"""The page where a code is typed: what it shows, wrong codes, resends, expiry."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def bank(make_bank):
    """The bank with its login codes sent once, so their five minutes show (its own
    workflow adds the two before a call: tests/adapters/test_workflows_web.py)."""
    return make_bank(STEPUP_WORKFLOWS_BY_PURPOSE="{}")


@pytest.fixture
def code_page(bank):
    """alice, freshly logged in, on the page for an SMS code: ``(browser, url)``."""
    browser = bank.browser()
    browser.login("alice")
    return browser, browser.choose(browser.follow(browser.get("/")), "sms").location


def resend(browser, url):
    return browser.submit(browser.get(url), "/resend")


def test_the_page_helps_phones_fill_the_code_and_says_what_is_left(bank, code_page):
    browser, url = code_page
    page = browser.get(url)
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", page.text).group(0)

    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field
    assert "3 attempts left" in page.text and "expires in" in page.text and "5 min 0 s" in page.text
    assert "Send a new code (in 30 s)" in page.text
    assert page.headers["Cache-Control"] == "no-store"

    bank.clock.advance(75)
    later = browser.get(url).text
    assert "3 min 45 s" in later and "Send a new code</button>" in later.replace("\n", "").replace("  ", "")


def test_authenticator_and_recovery_pages_send_nothing(bank):
    browser = bank.browser()
    browser.login("carol")
    page = browser.get(browser.choose(browser.follow(browser.get("/")), "totp").location)

    assert "Open your authenticator app" in page.text
    assert not any(action.endswith("/resend") for action in browser.actions(page))
    assert bank.sms.outbox == [] and bank.email.outbox == []


def test_a_wrong_code_says_how_many_attempts_are_left(bank, code_page):
    browser, url = code_page

    first = browser.enter(url, "000000" if bank.code("sms") != "000000" else "111111")
    second = browser.enter(url, "not-a-code")

    assert first.status_code == 400 and "That code is not right. 2 attempts left." in first.text
    assert 'aria-invalid="true"' in first.text
    assert second.status_code == 400 and "1 attempt left" in second.text
    assert browser.get("/").status_code == 303


def test_three_wrong_codes_end_the_code_and_offer_a_new_one(bank, code_page):
    browser, url = code_page
    right = bank.code("sms")
    wrong = "000000" if right != "000000" else "111111"
    page = browser.get(url)
    for _ in range(2):
        browser.submit(page, "/stepup/code/", code=wrong)

    third = browser.submit(page, "/stepup/code/", code=wrong)
    assert third.status_code == 410
    assert "This code no longer works" in third.text and "no attempts are left" in third.text
    assert "/stepup/code/" not in third.text  # no code form any more
    assert browser.submit(page, "/stepup/code/", code=right).status_code == 410
    assert browser.get("/").status_code == 303

    restart = re.search(r'<a class="button" href="([^"]+)">Get a new code</a>', third.text).group(1)
    new_url = browser.choose(browser.get(restart), "sms").location
    too_soon = browser.enter(new_url, bank.code("sms"))
    # The back-off after 3 failures: the page says when to try again, not that the code is wrong.
    assert too_soon.status_code == 429 and "Wait 1 second, then try again: your code still works." in too_soon.text
    assert "not right" not in too_soon.text and 'id="verify" disabled data-wait="1"' in too_soon.text
    bank.clock.advance(1)
    assert browser.enter(new_url, bank.code("sms")).location == "/"


def test_a_resend_waits_for_its_cooldown(bank, code_page):
    browser, url = code_page
    old = bank.code("sms")

    refused = resend(browser, url)
    assert refused.status_code == 429
    assert "Please wait 30 s before asking for another code." in refused.text
    assert len(bank.sms.outbox) == 1

    bank.clock.advance(30)
    sent = resend(browser, url)
    assert sent.status_code == 303 and sent.location.endswith("?sent=1")
    assert "A new code is on its way." in browser.follow(sent).text
    assert len(bank.sms.outbox) == 2
    new = bank.code("sms")
    if new != old:  # one time in a million the new code is the old one
        assert browser.enter(url, old).status_code == 400
    assert browser.enter(url, new).location == "/"


def test_three_sends_then_no_more(bank, code_page):
    browser, url = code_page
    for _ in range(2):
        bank.clock.advance(30)
        assert resend(browser, url).status_code == 303

    page = browser.get(url)
    bank.clock.advance(30)
    refused = browser.submit(page, "/resend")

    assert "No more codes can be sent for this request." in page.text
    assert refused.status_code == 429 and "No more codes can be sent" in refused.text
    assert len(bank.sms.outbox) == 3
    assert browser.enter(url, bank.code("sms")).location == "/"


def test_a_code_expires_after_five_minutes(bank, code_page):
    browser, url = code_page
    code = bank.code("sms")
    bank.clock.advance(299)
    assert "0 min 1 s" in browser.get(url).text

    bank.clock.advance(1)
    expired = browser.get(url)
    late = browser.post(
        url,
        data={
            "code": code,
            "csrf_token": browser.form(browser.get("/stepup/?next=/"), "/stepup/").fields["csrf_token"],
        },
    )

    assert expired.status_code == 410 and "This code has expired." in expired.text
    assert "Get a new code" in expired.text
    assert late.status_code == 410
    assert browser.get("/").status_code == 303


def test_a_resent_code_lives_five_minutes_from_its_send(bank, code_page):
    browser, url = code_page
    bank.clock.advance(200)
    resend(browser, url)
    bank.clock.advance(250)

    assert browser.enter(url, bank.code("sms")).location == "/"


def test_a_used_code_page_cannot_be_used_again(bank, code_page):
    browser, url = code_page
    code = bank.code("sms")
    page = browser.get(url)
    assert browser.submit(page, "/stepup/code/", code=code).location == "/"

    again = browser.submit(page, "/stepup/code/", code=code)
    back = browser.get(url)

    for answer in (again, back):
        assert answer.status_code == 410
        assert "This code was already used." in answer.text
        assert '<a class="button" href="/">Continue</a>' in answer.text
