"""Fewer clicks: one usable method skips the choose page (its code is sent at once), a
back-off says when to try again, and a reload after an approved request shows no error."""

from __future__ import annotations

from tests.support.flows import ask_transfer, held, signed_in, transfers

#: what a browser sends when it follows a link or a redirect on the same site.
NAVIGATE = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def test_one_usable_method_skips_the_choose_page(bank):
    browser = held(bank, "carol")  # an authenticator app and nothing else
    choose = browser.get(browser.get("/").location, headers=NAVIGATE)
    assert choose.status_code == 303 and "/stepup/code/" in choose.location

    page = browser.get(choose.location, headers=NAVIGATE)
    assert "Open your authenticator app" in page.text and "Use another method" not in page.text
    assert browser.submit(page, "/stepup/code/", code=bank.code("totp")).location == "/"


def test_a_code_is_sent_at_once_when_sms_is_the_only_method_here(make_bank):
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    sent = len(bank.sms.outbox)  # the notice that the email was removed
    browser = held(bank)
    answer = browser.get(browser.get("/").location, headers=NAVIGATE)
    assert answer.status_code == 303 and "/stepup/code/" in answer.location
    assert len(bank.sms.outbox) == sent + 1 and "sign-in code" in bank.sms.last.body


def test_two_methods_still_ask_which_and_the_code_page_offers_the_other(bank):
    browser = held(bank)
    choose = browser.get(browser.get("/").location, headers=NAVIGATE)
    assert choose.status_code == 200 and bank.sms.outbox == []
    page = browser.get(browser.choose(choose, "sms").location)
    assert "Use another method" in page.text


def test_a_cross_site_link_or_a_prefetch_sends_nothing(bank):
    browser = held(bank, "carol")
    url = browser.get("/").location
    for headers in (
        {**NAVIGATE, "Sec-Fetch-Site": "cross-site"},
        {**NAVIGATE, "Sec-Purpose": "prefetch"},
        {**NAVIGATE, "Sec-Fetch-Mode": "cors"},
        {},  # a client that says nothing
    ):
        answer = browser.get(url, headers=headers)
        assert answer.status_code == 200 and "Continue" in answer.text, headers


def test_reloading_the_result_of_an_approved_transfer_shows_no_error(bank):
    browser = signed_in(bank)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "50")), "sms").location
    form = {**browser.form(browser.get(code_url), "/stepup/code/").fields, "code": bank.code("sms")}
    assert "Transferred 50.00 to bob" in browser.post(code_url, data=form).text

    again = browser.post(code_url, data=form)  # the browser's reload re-sends the form
    assert "Already done" in again.text and 'role="alert"' not in again.text
    assert (
        "This was already sent with your approval. Check whether the transfer of 50 to bob went through" in again.text
    )
    assert "already used" not in again.text and "no longer works" not in again.text
    assert transfers(browser) == ["50.00 to bob"]


def test_a_code_that_cannot_be_sent_at_once_shows_the_choose_page_with_why(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="1/15 minutes")
    browser = held(bank, "carol")
    url = browser.get("/").location
    assert browser.get(url, headers=NAVIGATE).status_code == 303  # the first challenge starts
    refused = browser.get(url, headers=NAVIGATE)
    assert refused.status_code == 429 and "Continue" in refused.text
    assert "Too many" in refused.text or "too many" in refused.text
