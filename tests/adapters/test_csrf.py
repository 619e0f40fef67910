"""Every form needs its CSRF token: without it nothing changes, nothing is sent, no secret
is shown, and a forged POST does not even start a step-up. (The JSON API's defence, JSON
bodies only: tests/security/test_csrf_and_fixation.py.)"""

from __future__ import annotations

import pytest

from stepup.web import ROUTES


def _signed_in(bank, user="alice", method="sms"):
    browser = bank.browser()
    browser.sign_in(user, method)
    return browser


def _case_login(bank):
    browser = bank.browser()
    page = browser.get("/login")
    return (
        browser,
        page,
        "/login",
        {"username": "alice", "password": "alice-password"},
        lambda: browser.get("/transfers").location.startswith("/login"),
    )


def _case_logout(bank):
    browser = _signed_in(bank)
    page = browser.get("/logout")
    return browser, page, "/logout", {}, lambda: browser.get("/transfers").status_code == 200


def _case_choose(bank):
    browser = bank.browser()
    browser.login("alice")
    page = browser.follow(browser.get("/"))
    binding = browser.form(page, "/stepup/").radios["binding"][0][0]
    return browser, page, "/stepup/", {"binding": binding}, lambda: bank.sms.outbox == []


def _case_code(bank):
    browser = bank.browser()
    browser.login("alice")
    url = browser.choose(browser.follow(browser.get("/")), "sms").location
    page = browser.get(url)
    return (
        browser,
        page,
        "/stepup/code/",
        {"code": bank.code("sms")},
        lambda: "3 attempts left" in browser.get(url).text and browser.get("/").status_code == 303,
    )


def _case_resend(bank):
    browser, page, _, _, _ = _case_code(bank)
    bank.clock.advance(30)
    return browser, page, "/resend", {}, lambda: len(bank.sms.outbox) == 1


def _case_next_step(bank):
    browser, page, _, _, _ = _case_code(bank)
    bank.clock.advance(120)  # the bank's login workflow: "Call me instead" is due
    return browser, page, "/next", {}, lambda: bank.voice.outbox == []


def _case_bind_phone(bank):
    browser = _signed_in(bank)
    sent = len(bank.sms.outbox)
    page = browser.get("/stepup/bind/phone")
    return (
        browser,
        page,
        "",
        {"phone": "+447700900444"},
        lambda: len(bank.sms.outbox) == sent and len(bank.bindings("alice")) == 2,
    )


def _case_bind_email(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/bind/email")
    return browser, page, "", {"email": "new@example.org"}, lambda: bank.email.outbox == []


def _case_bind_totp(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/bind/totp")
    return browser, page, "", {}, lambda: not any(b.method == "totp" for b in bank.bindings("alice"))


def _case_recovery(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/recovery-codes")
    return browser, page, "", {}, lambda: not any(b.method == "recovery" for b in bank.bindings("alice"))


def _case_unbind(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/account")
    binding = bank.bindings("alice")[1].id
    return browser, page, f"/remove/{binding}", {}, lambda: len(bank.bindings("alice")) == 2


def _case_passkey_add(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/passkeys/add")
    # a forged post starts no bind challenge: the page is not left for a passkey's code page
    return browser, page, "", {"name": "Mallory's key"}, lambda: len(bank.bindings("alice")) == 2


def _case_passkey_rename(bank):
    binding = bank.call("import_binding", "alice", "passkey", "Laptop")
    browser = _signed_in(bank)
    page = browser.get("/stepup/account")
    action = f"/stepup/passkeys/{binding.id}/rename"
    return (
        browser,
        page,
        action,
        {"name": "Mallory's"},
        lambda: ("passkey", "Laptop") in [(b.method, b.label) for b in bank.bindings("alice")],
    )


def _case_admin(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/admin")
    fields = {"scope": "global", "name": "", "setting": "method:sms", "enabled": "off"}
    return browser, page, "", fields, lambda: "sms" in bank.policy().methods()


def _case_forget_browser(bank):
    browser = _signed_in(bank)
    browser.set_cookie("stepup_device", "a-remembered-browser-id")
    page = browser.get("/logout")
    # a forged post neither expires the cookie nor goes on to the logout
    return browser, page, "/stepup/forget-browser", {}, lambda: browser.cookie("stepup_device") is not None


def _case_console(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/admin/support?subject=carol")
    return browser, page, "/stepup/admin/support", {"action": "reset_all"}, lambda: len(bank.bindings("carol")) == 1


CASES = {
    "login": _case_login,
    "logout": _case_logout,
    "choose": _case_choose,
    "code": _case_code,
    "resend": _case_resend,
    "next_step": _case_next_step,
    "bind_phone": _case_bind_phone,
    "bind_email": _case_bind_email,
    "bind_totp": _case_bind_totp,
    "recovery": _case_recovery,
    "unbind": _case_unbind,
    "admin": _case_admin,
    "forget_browser": _case_forget_browser,
    "console": _case_console,
    "passkey_add": _case_passkey_add,
    "passkey_rename": _case_passkey_rename,
}


#: the bank's own forms; its transfer has a test of its own below (it goes through a step-up).
BANK_FORMS = {"login", "logout", "transfer"}
#: forms whose case needs a plug-in installed before the bank is made (tests/adapters/test_plugin_pages.py),
#: or remembered browsers, which the shipped bank leaves off (tests/security/test_account_browsers.py).
ELSEWHERE = {"bind_method", "forget_browsers"}


def test_every_state_changing_form_has_a_case():
    pages = {name for name, _, methods in ROUTES if "POST" in methods and not name.startswith("api_")}
    assert pages | BANK_FORMS == set(CASES) | {"transfer"} | ELSEWHERE


@pytest.mark.parametrize("token", ["missing", "wrong", "another_session"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_form_needs_its_csrf_token(bank, case, token):
    browser, page, action, fields, unchanged = CASES[case](bank)
    form = browser.form(page, action or None)
    data = {**form.fields, **fields}
    if token == "missing":
        data.pop("csrf_token")
    elif token == "wrong":
        good = data["csrf_token"]
        data["csrf_token"] = good[:-4] + ("wxyz" if good.endswith("abcd") else "abcd")
    else:
        stranger = bank.browser()
        data["csrf_token"] = stranger.form(stranger.get("/login"), "/login").fields["csrf_token"]
    url = form.action or page.url

    response = browser.post(url, data=data)

    assert response.status_code == 400, (case, response.status_code, response.location)
    assert "<svg" not in response.text and "<li><code>" not in response.text  # no QR code, no recovery codes
    assert unchanged(), case


def test_a_transfer_without_its_csrf_token_never_runs(bank):
    browser = _signed_in(bank)
    fields = browser.form(browser.get("/transfer"), "/transfer").fields
    fields.pop("csrf_token")

    asked = browser.post("/transfer", data={**fields, "to": "mallory", "amount": "900"})
    replayed = browser.pass_challenge(browser.follow(asked), "sms")

    assert replayed.status_code == 400
    assert "No transfers yet." in browser.get("/transfers").text


@pytest.mark.parametrize("path", ["/stepup/bind/phone", "/stepup/bind/totp", "/stepup/recovery-codes"])
def test_a_forged_post_does_not_even_start_a_step_up(bank, path):
    browser = _signed_in(bank)
    bank.clock.advance(301)

    forged = browser.post(path, data={"phone": "+447700900444"})

    assert forged.status_code == 400
    assert len(bank.sms.outbox) == 1
