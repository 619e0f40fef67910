"""Remembered browsers on the account page: each listed with its name, when it was
remembered and last seen; "forget this browser" and "forget all" take the trust away at
once, only from the subject's own browsers, and only with the form's CSRF token."""

from __future__ import annotations

import pytest

import stepup

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def remembered(bank, user="alice", method="sms", agent=FIREFOX):
    browser = bank.browser()
    browser.login(user)
    code_url = browser.choose(browser.follow(browser.get("/")), method).location
    page = browser.get(code_url)
    form = browser.form(page, "/stepup/code/")
    code = bank.code(method, user) if method == "totp" else bank.code(method)
    done = browser.post(form.action, data={**form.fields, "code": code, "remember": "y"}, headers={"User-Agent": agent})
    assert done.status_code == 303
    return browser


def login_is_held(browser, user="alice"):
    browser.logout()
    browser.login(user)
    return browser.get("/transfers").status_code == 303


@pytest.fixture
def trusting_bank(make_bank):
    return make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)


def test_the_account_page_lists_remembered_browsers_and_when_bindings_were_last_used(trusting_bank):
    browser = remembered(trusting_bank)

    page = browser.get("/stepup/account")

    assert "Remembered browsers" in page.text and "Firefox on Linux" in page.text
    assert "Forget this browser" in page.text and "Forget all browsers" in page.text
    assert "2023-11-14 22:13 UTC" in page.text  # the frozen clock: remembered, last seen, sms last used


def test_a_browser_forgotten_from_the_account_page_is_no_longer_trusted(trusting_bank):
    browser = remembered(trusting_bank)
    handle = trusting_bank.call("devices", "alice")[0].id

    done = browser.press(browser.get("/stepup/account"), browser=handle)

    assert done.status_code == 303 and done.location == "/stepup/account?forgotten=1"
    assert trusting_bank.call("devices", "alice") == []
    assert login_is_held(browser)


def test_forget_all_forgets_every_browser_of_the_subject_only(trusting_bank):
    first, second = remembered(trusting_bank), remembered(trusting_bank)
    carol = remembered(trusting_bank, "carol", "totp")

    done = first.press(first.get("/stepup/account"), browser="all")

    assert done.status_code == 303 and trusting_bank.call("devices", "alice") == []
    assert login_is_held(second) and not login_is_held(carol, "carol")


def test_another_subjects_browser_cannot_be_forgotten(trusting_bank):
    remembered(trusting_bank)
    carol = remembered(trusting_bank, "carol", "totp")
    alices = trusting_bank.call("devices", "alice")[0].id
    token = carol.form(carol.get("/stepup/account"), "/stepup/account/browsers").fields["csrf_token"]

    answer = carol.post("/stepup/account/browsers", data={"csrf_token": token, "browser": alices})

    assert answer.status_code == 404 and "not remembered" in answer.text
    assert [d.id for d in trusting_bank.call("devices", "alice")] == [alices]


def test_forgetting_without_the_csrf_token_forgets_nothing(trusting_bank):
    browser = remembered(trusting_bank)

    stranger = trusting_bank.browser()
    theirs = stranger.form(stranger.get("/login"), "/login").fields["csrf_token"]

    missing = browser.post("/stepup/account/browsers", data={"browser": "all"})
    forged = browser.post("/stepup/account/browsers", data={"browser": "all", "csrf_token": "x" * 40})
    another_session = browser.post("/stepup/account/browsers", data={"browser": "all", "csrf_token": theirs})

    assert missing.status_code == 400 and forged.status_code == 400 and another_session.status_code == 400
    assert len(trusting_bank.call("devices", "alice")) == 1 and not login_is_held(browser)


def test_a_stranger_is_asked_to_sign_in(trusting_bank):
    assert trusting_bank.browser().post("/stepup/account/browsers", data={"browser": "all"}).status_code == 401


def test_the_place_the_app_finds_for_an_address_is_kept_and_the_address_is_not():
    places = {"198.51.100.7": "London, GB"}
    engine = stepup.Engine(
        secret_key="s" * 40, store_url="memory://", sms_url="console://", trusted_device_days=30,
        locate=places.get,
    )  # fmt: skip
    engine.remember_device("alice", methods=["sms"], user_agent=FIREFOX, client="198.51.100.7")
    engine.remember_device("alice", methods=["sms"], user_agent=FIREFOX, client="203.0.113.9")

    listed = engine.devices("alice")

    assert [d.place for d in listed] == [None, "London, GB"]
    assert "198.51.100.7" not in repr(engine.store.get("device", "alice"))


def test_a_totp_code_marks_its_bindings_last_use(bank):
    browser = bank.browser()
    browser.sign_in("carol", "totp")

    (totp,) = [b for b in bank.bindings("carol") if b.method == "totp"]
    assert totp.last_used is not None
