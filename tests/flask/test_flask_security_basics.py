"""Return URLs stay on the site, every form needs its CSRF token, logging out ends
challenges and grants, and links of one session do nothing in another."""

from __future__ import annotations

import pytest

from stepup.web import safe_next

OFF_SITE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "http:evil.example",
    "/\t/evil.example",
    " //evil.example",
]


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

    choose = browser.get("/stepup/", query_string={"next": target})

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
        moved = browser.get("/stepup/", query_string={"next": target})
        assert moved.status_code == 303 and moved.location == "/"


def test_binding_at_first_login_never_returns_off_site(bank):
    browser = bank.browser()
    browser.login("bob")

    bind_page = browser.get("/stepup/bind/phone?next=//evil.example")
    sent = browser.submit(bind_page, "", phone="+447700900333")
    bound = browser.enter(sent.location, bank.code("sms"))

    assert bound.status_code == 303 and bound.location == "/"


# -- CSRF ------------------------------------------------------------------------------


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


def _case_bind_phone(bank):
    browser = _signed_in(bank)
    sent = len(bank.sms.outbox)
    page = browser.get("/stepup/bind/phone")
    return (
        browser,
        page,
        "",
        {"phone": "+447700900444"},
        lambda: len(bank.sms.outbox) == sent and len(bank.engine.bindings("alice")) == 2,
    )


def _case_bind_email(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/bind/email")
    return browser, page, "", {"email": "new@example.org"}, lambda: bank.email.outbox == []


def _case_bind_totp(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/bind/totp")
    return browser, page, "", {}, lambda: not any(b.method == "totp" for b in bank.engine.bindings("alice"))


def _case_recovery(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/recovery-codes")
    return browser, page, "", {}, lambda: not any(b.method == "recovery" for b in bank.engine.bindings("alice"))


def _case_unbind(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/account")
    binding = bank.engine.bindings("alice")[1].id
    return browser, page, f"/remove/{binding}", {}, lambda: len(bank.engine.bindings("alice")) == 2


def _case_admin(bank):
    browser = _signed_in(bank)
    page = browser.get("/stepup/admin")
    fields = {"scope": "global", "name": "", "setting": "method:sms", "enabled": "off"}
    return browser, page, "", fields, lambda: "sms" in bank.engine.policy().methods()


CASES = {
    "login": _case_login,
    "choose": _case_choose,
    "code": _case_code,
    "resend": _case_resend,
    "bind_phone": _case_bind_phone,
    "bind_email": _case_bind_email,
    "bind_totp": _case_bind_totp,
    "recovery": _case_recovery,
    "unbind": _case_unbind,
    "admin": _case_admin,
}


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
    url = form.action or page.request.full_path.rstrip("?")

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


# -- sessions --------------------------------------------------------------------------


def test_logging_out_ends_the_pending_challenge(bank):
    browser = bank.browser()
    browser.login("alice")
    url = browser.choose(browser.follow(browser.get("/")), "sms").location
    code = bank.code("sms")
    page = browser.get(url)
    browser.logout()
    browser.login("alice")

    old_page = browser.get(url)
    old_code = browser.submit(
        page,
        "/stepup/code/",
        code=code,
        csrf_token=browser.form(browser.follow(browser.get("/")), "/stepup/").fields["csrf_token"],
    )

    assert old_page.status_code == 403 and "/stepup/code/" not in "".join(browser.actions(old_page))
    assert old_code.status_code == 403
    assert browser.get("/").status_code == 303


def test_a_logout_that_keeps_the_session_still_ends_the_grants(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    assert browser.get("/report").status_code == 200

    browser.logout()
    assert browser.get("/stepup/api/status").status_code == 401
    browser.login("dana")

    assert browser.get("/report").status_code == 303
    assert browser.get("/stepup/api/status").json["held"] is True


def test_links_of_one_session_do_nothing_in_another(bank):
    owner, other = bank.browser(), bank.browser()
    owner.sign_in("alice", "sms")
    other.sign_in("alice", "email")
    asked = owner.submit(owner.get("/transfer"), "/transfer", to="bob", amount="5")
    code_url = owner.choose(owner.follow(asked), "sms").location

    resume = other.get(asked.location)
    code_page = other.get(code_url)

    assert resume.status_code == 403 and "This request has ended" in resume.text
    assert code_page.status_code == 403
    assert "No transfers yet." in owner.get("/transfers").text


def test_stepup_pages_ask_strangers_to_sign_in(bank):
    stranger = bank.browser()
    for path in ("/stepup/", "/stepup/account", "/stepup/bind/phone", "/stepup/recovery-codes"):
        assert stranger.get(path).status_code == 401
    assert stranger.get("/stepup/api/status").json["code"] == "not_signed_in"
