"""Open redirects, through every return URL stepup takes: ``next`` on the choose page (query
and form field) and on each bind page, the next a code page's signed token carries, the
``next`` the JSON API answers, and the bank's own login. Whatever is asked, the user lands
on a path of the site. (test_return_urls.py checks ``safe_next`` itself and the choose
page's field; this follows each parameter to where the user really lands.)"""

from __future__ import annotations

import pytest

from tests.support.flows import OFF_SITE, challenge, held, payload_of, same_site, token_of


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_choose_pages_next_never_leads_off_site(bank, target):
    browser = held(bank)

    choose = browser.get("/stepup/", params={"next": target})
    code_url = browser.choose(choose, "sms").location
    landed = browser.enter(code_url, bank.code("sms"))

    assert payload_of(token_of(code_url))["n"] == "/"
    assert landed.status_code == 303 and landed.location == "/"


@pytest.mark.parametrize("target", OFF_SITE[::2])
def test_a_forged_next_field_on_the_choose_form_never_leads_off_site(bank, target):
    browser = held(bank)
    choose = browser.get("/stepup/?next=/transfers")

    sent = browser.submit(
        choose, "/stepup/", binding=browser.form(choose, "/stepup/").radios["binding"][0][0], next=target
    )
    landed = browser.enter(sent.location, bank.code("sms"))

    assert landed.status_code == 303 and landed.location == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_signed_in_user_sent_to_the_choose_page_stays_on_the_site(bank, target):
    browser = held(bank)
    browser.pass_challenge(browser.follow(browser.get("/")), "sms")

    moved = browser.get("/stepup/", params={"next": target})

    assert moved.status_code == 303 and moved.location == "/"


@pytest.mark.parametrize("page", ["phone", "email", "totp"])
@pytest.mark.parametrize("target", OFF_SITE[::3])
def test_binding_at_first_login_never_returns_off_site(bank, page, target):
    browser = held(bank, "bob")

    bind_page = browser.get(f"/stepup/bind/{page}", params={"next": target})
    if page == "totp":
        started = browser.submit(bind_page, "")
        code_url = browser.form(started, "/stepup/code/").action
        code = _totp_now(bank, started.text)
    else:
        field = {"phone": {"phone": "+447700900333"}, "email": {"email": "bob@example.org"}}[page]
        code_url = browser.submit(bind_page, "", **field).location
        code = bank.code("sms" if page == "phone" else "email")
    bound = browser.enter(code_url, code)

    assert payload_of(token_of(code_url))["n"] == "/"
    assert bound.status_code == 303 and bound.location == "/"


def _totp_now(bank, page_text):
    from stepup._otp import totp_at_step

    secret = page_text.split('class="secret"')[1].split(">")[1].split("<")[0].replace(" ", "")
    return totp_at_step(secret, int(bank.clock() // 30), 6)


def test_a_held_request_for_an_odd_path_returns_to_that_path_on_the_site(bank):
    """The path a held request asked for is kept as a path, query and all: it may look like
    an address (``?next=//evil.example``) but it stays a path of the site."""
    browser = held(bank)

    asked = browser.get("/transfers", params={"next": "//evil.example"})
    landed = browser.pass_challenge(browser.follow(asked), "sms")

    assert same_site(asked.location) and same_site(landed.location)
    assert landed.location.startswith("/transfers?next=")


def test_the_api_answers_only_same_site_next_urls(bank):
    browser = held(bank)
    browser.pass_challenge(browser.follow(browser.get("/")), "sms")
    bank.clock.advance(301)
    asked = browser.get("/api/balance", headers={"Accept": "application/json"})
    created = challenge(browser, method="sms", resume=asked.json()["resume"])

    verified = browser.post(created["verify_url"], json={"code": bank.code("sms")})

    assert verified.json()["next"] == "/api/balance"


@pytest.mark.parametrize("target", OFF_SITE[::4])
def test_the_banks_login_ignores_next(bank, target):
    browser = bank.browser()
    page = browser.get("/login", params={"next": target})

    logged_in = browser.submit(page, "/login", username="alice", password="alice-password")

    assert logged_in.status_code == 303 and same_site(logged_in.location)
