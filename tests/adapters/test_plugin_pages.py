"""A plug-in method on the pages: docs/extending.md's voice example, installed through
its entry point, with its channel's sender named by ``STEPUP_VOICE_URL``, is offered
where the built-in methods are (the first binding at login, the bind pages, the account
page, the choose page) and binds and verifies like them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.plugins import install_plugin
from tests.support.sites import Site

METHODS = "sms,email,totp,recovery,voice"


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    """The voice channel's outbox: one JSON object a line."""
    return tmp_path / "calls.jsonl"


@pytest.fixture
def voice_bank(make_bank: Callable[..., Site], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, calls: Path) -> Site:
    install_plugin("voice", monkeypatch, tmp_path / "site")
    return make_bank(STEPUP_METHODS=METHODS, STEPUP_VOICE_URL=f"file://{calls}")


def last_call(calls: Path) -> tuple[str, str]:
    """Who the newest call went to, and the code it read out."""
    call = json.loads(calls.read_text(encoding="utf-8").splitlines()[-1])
    assert call["channel"] == "voice"
    return call["to"], re.sub(r"\D", "", call["body"].split("\n\n")[0])  # read out digit by digit


def test_a_user_with_nothing_bound_binds_the_plugin_method_and_signs_in_with_it(voice_bank, calls):
    browser = voice_bank.browser()
    browser.login("bob")
    phone_page = browser.follow(browser.follow(browser.get("/")))
    assert '<a href="/stepup/bind/method/voice?next=/">Voice call</a>' in phone_page.text

    voice_page = browser.get("/stepup/bind/method/voice?next=/")
    assert voice_page.status_code == 200 and "Add a phone for voice calls" in voice_page.text
    assert 'type="tel"' in voice_page.text and "Phone number" in voice_page.text
    sent = browser.submit(voice_page, "", target="+44 7700 900333")
    assert sent.status_code == 303 and "/stepup/code/" in sent.location
    to, code = last_call(calls)
    assert to == "+447700900333" and voice_bank.sms.outbox == []
    bound = browser.enter(sent.location, code)
    assert bound.status_code == 303 and bound.location == "/"
    assert [(b.method, b.label) for b in voice_bank.bindings("bob")] == [("voice", "+44 •••• ••0333")]

    browser.logout()
    browser.login("bob")
    choose = browser.follow(browser.get("/"))
    assert browser.offered(choose) == ["Voice call: +44 •••• ••0333"]
    code_url = browser.choose(choose, "voice").location
    landed = browser.enter(code_url, last_call(calls)[1])
    assert landed.status_code == 303 and "Welcome, bob" in browser.follow(landed).text


def test_the_account_page_adds_the_plugin_method_and_names_it(voice_bank, calls):
    browser = voice_bank.browser()
    browser.sign_in("alice", "sms")
    account = browser.get("/stepup/account")
    assert account.status_code == 200
    link = '<a class="button secondary" href="/stepup/bind/method/voice">Add a phone for voice calls</a>'
    assert link in account.text

    voice_page = browser.get("/stepup/bind/method/voice")
    assert "Or use" in voice_page.text and "a mobile number</a>" in voice_page.text
    sent = browser.submit(voice_page, "", target="+44 7700 900444")
    added = browser.enter(sent.location, last_call(calls)[1])

    assert added.location == "/stepup/account?added=1"
    listed = browser.follow(added).text
    assert "<td>Voice call</td>" in listed and "+44 •••• ••0444" in listed


def test_a_plugin_target_is_checked_by_its_method(voice_bank, calls):
    browser = voice_bank.browser()
    browser.sign_in("alice", "sms")

    refused = browser.submit(browser.get("/stepup/bind/method/voice"), "", target="+44 909 879 0000")

    assert refused.status_code == 422 and "remium" in refused.text
    assert not calls.exists() and [b.method for b in voice_bank.bindings("alice")] == ["sms", "email"]


def test_a_method_with_no_page_of_its_own_is_not_found(voice_bank):
    browser = voice_bank.browser()
    browser.sign_in("alice", "sms")

    assert browser.get("/stepup/bind/method/sms").status_code == 404
    assert browser.get("/stepup/bind/method/nothing").status_code == 404


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_the_plugin_bind_form_needs_its_csrf_token(voice_bank, calls, token):
    browser = voice_bank.browser()
    browser.sign_in("alice", "sms")
    fields = {**browser.form(browser.get("/stepup/bind/method/voice")).fields, "target": "+447700900555"}
    if token == "missing":
        fields.pop("csrf_token")
    else:
        good = fields["csrf_token"]
        fields["csrf_token"] = good[:-4] + ("wxyz" if good.endswith("abcd") else "abcd")

    forged = browser.post("/stepup/bind/method/voice", data=fields)

    assert forged.status_code == 400
    assert not calls.exists() and [b.method for b in voice_bank.bindings("alice")] == ["sms", "email"]


def test_the_json_api_binds_the_plugin_method_to_the_target_it_needs(voice_bank, calls):
    browser = voice_bank.browser()
    browser.sign_in("alice", "sms")

    untargeted = browser.post("/stepup/api/bindings", json={"method": "voice"})
    started = browser.post("/stepup/api/bindings", json={"method": "voice", "target": "+44 7700 900666"})
    to, code = last_call(calls)
    verified = browser.post(started.json()["verify_url"], json={"code": code})

    assert untargeted.status_code == 422 and "'target'" in untargeted.json()["title"]
    assert started.status_code == 201 and to == "+447700900666"
    assert verified.status_code == 200
    assert ("voice", "+44 •••• ••0666") in [(b.method, b.label) for b in voice_bank.bindings("alice")]
