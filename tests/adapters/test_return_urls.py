"""Return URLs stay on the site: the ``next`` of a login, a step-up or a first binding
never leads off it."""

from __future__ import annotations

import pytest

from stepup.web import safe_next
from tests.support.flows import OFF_SITE


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_addresses_that_leave_the_site(target):
    assert safe_next(target) == "/"
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/transfers", "/report?year=2024&q=a%26b", "/a/b#part", "/stepup/account"])
def test_safe_next_keeps_paths_on_the_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", [None, 42, "", "x" * 3000, "transfers"])
def test_safe_next_refuses_what_is_not_a_path(target):
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_choose_page_never_sends_a_login_off_site(bank, target):
    browser = bank.browser()
    browser.login("alice")

    choose = browser.get("/stepup/", params={"next": target})

    assert browser.form(choose, "/stepup/").fields["next"] == "/"


def test_a_login_asked_to_go_off_site_lands_home(bank):
    browser = bank.browser()
    browser.login("alice")

    landed = browser.pass_challenge(browser.get("/stepup/?next=https://evil.example"), "sms")

    assert landed.status_code == 303 and landed.location == "/"


def test_a_signed_in_user_asked_to_go_off_site_stays(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")

    for target in ("//evil.example", "/\\evil.example", "javascript:alert(1)"):
        moved = browser.get("/stepup/", params={"next": target})
        assert moved.status_code == 303 and moved.location == "/"


def test_binding_at_first_login_never_returns_off_site(bank):
    browser = bank.browser()
    browser.login("bob")

    bind_page = browser.get("/stepup/bind/phone?next=//evil.example")
    sent = browser.submit(bind_page, "", phone="+447700900333")
    bound = browser.enter(sent.location, bank.code("sms"))

    assert bound.status_code == 303 and bound.location == "/"
