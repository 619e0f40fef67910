"""Fewer clicks: one usable method skips the choose page (its code is sent at once), a
back-off says when to try again, and a reload after an approved request shows no error."""

from __future__ import annotations

from stepup import DeliveryError
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
        {**NAVIGATE, "Purpose": "prefetch"},  # older browsers' prefetch
        {**NAVIGATE, "X-Purpose": "preview"},  # Safari's link preview
        {**NAVIGATE, "X-Moz": "prefetch"},
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


# -- a browser stopped by the gate goes straight to its code page ---------------------------


def test_a_login_stopped_on_a_navigation_goes_straight_to_its_code_page(make_bank):
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    sent = len(bank.sms.outbox)
    browser = held(bank)
    stopped = browser.get("/", headers=NAVIGATE)  # the redirect after the password, followed
    assert stopped.status_code == 303 and "/stepup/code/" in stopped.location
    assert len(bank.sms.outbox) == sent + 1 and "sign-in code" in bank.sms.last.body
    page = browser.get(stopped.location, headers=NAVIGATE)
    assert browser.submit(page, "/stepup/code/", code=bank.code("sms")).location == "/"
    assert len(bank.sms.outbox) == sent + 1  # one code, not a second one from the choose page


def test_an_operation_sent_twice_sends_one_code_and_runs_once(make_bank):
    """A stopped operation still goes through the choose page: the browser follows the
    redirect of the last of two sends of its form (a double click), so one code is sent."""
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    browser = signed_in(bank)
    sent = len(bank.sms.outbox)
    form = browser.form(browser.get("/transfer"), "/transfer")
    for _ in range(2):
        stopped = browser.post("/transfer", data={**form.fields, "to": "bob", "amount": "50"}, headers=NAVIGATE)
        assert stopped.status_code == 303 and stopped.location.startswith("/stepup/?")
    assert len(bank.sms.outbox) == sent
    code_url = browser.get(stopped.location, headers=NAVIGATE).location
    assert len(bank.sms.outbox) == sent + 1
    page = browser.get(code_url, headers=NAVIGATE)
    assert "Transferred 50.00 to bob" in browser.submit(page, "/stepup/code/", code=bank.code("sms")).text
    assert transfers(browser) == ["50.00 to bob"]


def test_a_json_client_held_at_login_gets_its_401_and_no_code(make_bank):
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    browser = held(bank)
    sent = len(bank.sms.outbox)
    answer = browser.get("/", headers={**NAVIGATE, "Accept": "application/json"})
    assert answer.status_code == 401 and len(bank.sms.outbox) == sent


def test_a_stopped_browser_with_a_choice_is_still_asked_which(bank):
    browser = held(bank)  # SMS and email
    stopped = browser.get("/", headers=NAVIGATE)
    assert stopped.status_code == 303 and stopped.location.startswith("/stepup/?")
    assert bank.sms.outbox == [] and bank.email.outbox == []


def test_a_request_stopped_from_another_site_or_a_prefetch_sends_nothing(make_bank):
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    sent = len(bank.sms.outbox)
    browser = held(bank)
    for headers in (
        {**NAVIGATE, "Sec-Fetch-Site": "cross-site"},
        {**NAVIGATE, "Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page
        {**NAVIGATE, "Sec-Purpose": "prefetch"},
        {**NAVIGATE, "Purpose": "prefetch"},
        {**NAVIGATE, "X-Purpose": "preview"},
        {**NAVIGATE, "X-Moz": "prefetch"},
        {**NAVIGATE, "Sec-Fetch-Mode": "cors"},
        {},
    ):
        stopped = browser.get("/", headers=headers)
        assert stopped.status_code == 303 and stopped.location.startswith("/stepup/?"), headers
    assert len(bank.sms.outbox) == sent


def test_a_code_that_cannot_be_sent_when_stopped_shows_why_at_once(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="1/15 minutes")
    browser = held(bank, "carol")
    assert "/stepup/code/" in browser.get("/", headers=NAVIGATE).location  # the first challenge starts
    refused = browser.get("/", headers=NAVIGATE)
    assert refused.status_code == 429 and ("Too many" in refused.text or "too many" in refused.text)
    assert browser.form(refused, "/stepup/").action.startswith("/stepup/")  # its button, to try again


def test_a_sender_that_fails_when_stopped_is_tried_once_and_says_so(make_bank):
    bank = make_bank()
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    tried: list[object] = []

    def down(message: object) -> None:
        tried.append(message)
        raise DeliveryError("The SMS gateway is down.", "sms", "down")

    bank.sms.send = down  # type: ignore[method-assign]
    browser = held(bank)
    answer = browser.get("/", headers=NAVIGATE)
    assert answer.status_code >= 500 and "/stepup/" in browser.form(answer, "/stepup/").action
    assert len(tried) == 1
