"""Remembered browsers, on both adapters: the cookie is an opaque random id (no user name,
nothing to decode), its record lives in the store, and a browser can be forgotten one at a
time, all at once, or by signing out with "forget this browser"; a subject holds a capped
number of them, newest first. Old signed cookies no longer work."""

from __future__ import annotations

import base64
import binascii

import pytest

from stepup.engine._devices import _fingerprint
from tests.support.flows import held

DAYS = 30


@pytest.fixture
def bank30(make_bank):
    return make_bank(STEPUP_TRUSTED_DEVICE_DAYS=DAYS)


def remembered(bank, user="alice", method="sms", agent="Firefox on a laptop"):
    """A browser that signed in with "remember this browser" ticked, and its cookie."""
    browser = held(bank, user)
    code_url = browser.choose(browser.follow(browser.get("/")), method).location
    page = browser.get(code_url)
    form = browser.form(page, "/stepup/code/")
    done = browser.post(form.action, data={**form.fields, "code": bank.code(method, user), "remember": "y"},
                        headers={"User-Agent": agent})  # fmt: skip
    assert done.status_code == 303, done.text[:300]
    return browser, browser.cookie("stepup_device")


def is_held_at_next_login(browser, user="alice"):
    browser.logout()
    browser.login(user)
    return browser.get("/transfers").location == "/stepup/?next=/transfers"


def decodable_parts(value):
    for part in value.replace("-", "+").replace("_", "/").split("."):
        try:
            yield base64.b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue


def test_the_cookie_is_an_opaque_id_that_names_no_one(bank30):
    _, cookie = remembered(bank30)

    assert cookie is not None and "alice" not in cookie
    assert all(b"alice" not in raw for raw in decodable_parts(cookie))
    assert "." not in cookie  # nothing signed to read: the record is in the store


def test_an_old_signed_cookie_no_longer_skips_the_second_factor(bank30):
    # The format before: the user name and a fingerprint of the bindings, signed with the
    # app's key; one minted now with the very fingerprint it carried then.
    browser, _ = remembered(bank30)
    fingerprint = bank30.call("run", _fingerprint(bank30.engine.context, "alice"))
    old = bank30.engine.keys.sign("stepup.trusted-device", {"s": "alice", "f": fingerprint})
    browser.set_cookie("stepup_device", old)

    assert is_held_at_next_login(browser)


def test_a_subject_lists_their_remembered_browsers(bank30):
    remembered(bank30, agent="Firefox on a laptop")
    bank30.clock.advance(60)
    remembered(bank30, agent="Safari on a phone")

    listed = bank30.call("devices", "alice")

    assert [b.user_agent for b in listed] == ["Safari on a phone", "Firefox on a laptop"]
    assert listed[0].expires_at == listed[0].created_at + DAYS * 86400
    assert bank30.call("devices", "carol") == []


def test_forgetting_one_browser_ends_it_and_leaves_the_others(bank30):
    laptop, _ = remembered(bank30, agent="laptop")
    phone, _ = remembered(bank30, agent="phone")
    [laptop_id] = [b.id for b in bank30.call("devices", "alice") if b.user_agent == "laptop"]

    assert bank30.call("forget_device", "alice", laptop_id) is True

    assert is_held_at_next_login(laptop)
    assert not is_held_at_next_login(phone)


def test_forgetting_all_of_a_subjects_browsers_ends_each(bank30):
    laptop, _ = remembered(bank30)
    phone, _ = remembered(bank30)

    bank30.call("forget_devices", "alice")

    assert bank30.call("devices", "alice") == []
    assert is_held_at_next_login(laptop) and is_held_at_next_login(phone)


def test_signing_out_with_forget_this_browser_ends_it_even_for_a_copy_of_the_cookie(bank30):
    browser, cookie = remembered(bank30)
    logout_page = browser.get("/logout")
    form = browser.form(logout_page, "/stepup/forget-browser")

    forgot = browser.post(form.action, data=form.fields)

    assert forgot.status_code == 307 and forgot.location == "/logout"
    expired = next(v for v in forgot.header_values("Set-Cookie") if v.startswith("stepup_device="))
    assert "Max-Age=0" in expired
    signed_out = browser.post(forgot.location, data=form.fields)  # the browser repeats the POST
    assert signed_out.status_code == 303 and signed_out.location.startswith("/login")
    assert bank30.call("devices", "alice") == []
    browser.set_cookie("stepup_device", cookie)  # a copy kept (or stolen) before
    browser.login("alice")
    assert browser.get("/transfers").location == "/stepup/?next=/transfers"


def test_forget_this_browser_needs_the_csrf_token(bank30):
    browser, _ = remembered(bank30)

    refused = browser.post("/stepup/forget-browser", data={})

    assert refused.status_code == 400
    assert len(bank30.call("devices", "alice")) == 1


def test_a_subject_holds_a_capped_number_of_browsers_newest_first(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=DAYS, STEPUP_TRUSTED_DEVICES_PER_SUBJECT=2)
    oldest, _ = remembered(bank, agent="oldest")
    middle, _ = remembered(bank, agent="middle")
    newest, _ = remembered(bank, agent="newest")

    assert [b.user_agent for b in bank.call("devices", "alice")] == ["newest", "middle"]
    assert is_held_at_next_login(oldest)
    assert not is_held_at_next_login(middle) and not is_held_at_next_login(newest)


def test_a_binding_change_ends_the_browsers_remembered_before(bank30):
    browser, _ = remembered(bank30)
    sent = browser.submit(browser.get("/stepup/bind/phone"), "", phone="+447700900555")
    assert browser.enter(sent.location, bank30.code("sms")).location == "/stepup/account?added=1"

    assert bank30.call("devices", "alice") == []
    assert is_held_at_next_login(browser)
