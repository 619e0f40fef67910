"""Managing sign-in methods: adding and removing need a fresh second factor, the other
channels are told, the last method stays, recovery codes are shown once."""

from __future__ import annotations

import re

from stepup._otp import totp_at_step


def labels(bank, user):
    return [(b.method, b.label) for b in bank.bindings(user)]


def test_the_account_page_lists_masked_methods(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")

    page = browser.get("/stepup/account")

    assert page.status_code == 200
    assert "+44 •••• ••0001" in page.text and "a•••@example.com" in page.text
    assert "+447700900001" not in page.text
    assert page.text.count(">Remove</button>") == 2


def test_adding_an_email_with_a_stale_grant_asks_first_and_tells_the_phone(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    bank.clock.advance(301)

    asked = browser.get("/stepup/bind/email")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    back = browser.pass_challenge(browser.follow(asked), "sms")
    assert back.location == "/stepup/bind/email"
    form_page = browser.follow(back)
    assert "Add your email address" in form_page.text

    sent = browser.submit(form_page, "", email="new@example.org")
    assert bank.email.last.to == "new@example.org"
    assert labels(bank, "alice") == [("sms", "+44 •••• ••0001"), ("email", "a•••@example.com")]  # not before its code
    added = browser.enter(sent.location, bank.code("email"))

    assert added.status_code == 303 and added.location == "/stepup/account?added=1"
    assert "Added." in browser.follow(added).text
    assert ("email", "n•••@example.org") in labels(bank, "alice")
    # The SMS notice is short enough for one GSM-7 segment (a masked address is not GSM-7).
    assert bank.sms.last.body == "Demo Bank: a sign-in method was added to your account. Not you? Contact support now."
    assert any("was added" in m.body for m in bank.email.outbox if m.to == "alice@example.com")


def test_a_fresh_grant_adds_a_phone_without_asking_again(bank):
    browser = bank.browser()
    browser.sign_in("alice", "email")

    form_page = browser.get("/stepup/bind/phone")
    assert form_page.status_code == 200
    sent = browser.submit(form_page, "", phone="+447700900777")
    added = browser.enter(sent.location, bank.code("sms"))

    assert added.location == "/stepup/account?added=1"
    assert ("sms", "+44 •••• ••0777") in labels(bank, "alice")


def test_adding_an_authenticator_app(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")

    scan = browser.submit(browser.get("/stepup/bind/totp"), "")
    assert "<svg" in scan.text
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', scan.text).group(1).replace(" ", "")
    code = totp_at_step(secret, int(bank.clock() // 30), 6)
    added = browser.submit(scan, "/stepup/code/", code=code)

    assert added.location == "/stepup/account?added=1"
    assert ("totp", "authenticator app") in labels(bank, "alice")


def test_removing_a_method_with_a_stale_grant_asks_then_removes_once(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    bank.clock.advance(301)
    account = browser.get("/stepup/account")
    email_id = next(b.id for b in bank.bindings("alice") if b.method == "email")

    asked = browser.submit(account, f"/remove/{email_id}")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    assert len(bank.bindings("alice")) == 2
    removed = browser.pass_challenge(browser.follow(asked), "sms")

    assert removed.status_code == 303 and removed.location == "/stepup/account?removed=1"
    assert labels(bank, "alice") == [("sms", "+44 •••• ••0001")]
    assert bank.sms.last.body.startswith("Demo Bank: a sign-in method was removed from your account.")


def test_the_last_method_cannot_be_removed_while_login_needs_a_second_factor(bank):
    browser = bank.browser()
    browser.sign_in("carol", "totp")
    account = browser.get("/stepup/account")
    totp_id = bank.bindings("carol")[0].id

    refused = browser.submit(account, f"/remove/{totp_id}")

    assert refused.status_code == 409
    assert "This is your last sign-in method" in refused.text
    assert labels(bank, "carol") == [("totp", "authenticator app")]


def test_recovery_codes_are_shown_once_and_each_works_once(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    bank.clock.advance(301)

    asked = browser.get("/stepup/recovery-codes")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    page = browser.follow(browser.pass_challenge(browser.follow(asked), "email"))
    shown = browser.submit(page, "")
    codes = re.findall(r"<li><code>([^<]+)</code></li>", shown.text)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert "They are shown only now" in shown.text
    later = browser.get("/stepup/recovery-codes").text
    assert not any(code in later for code in codes)
    assert "(10 left)" in browser.get("/stepup/account").text
    assert "a sign-in method was added to your account" in bank.sms.last.body
    assert "A set of recovery codes was added" in bank.email.last.body  # the email says which

    browser.logout()
    browser.login("alice")
    assert browser.pass_challenge(browser.follow(browser.get("/")), "recovery", codes[3]).location == "/"
    assert "(9 left)" in browser.get("/stepup/account").text


def test_new_recovery_codes_replace_the_old_ones(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    first = re.findall(r"<li><code>([^<]+)</code></li>", browser.submit(browser.get("/stepup/recovery-codes"), "").text)
    second = re.findall(
        r"<li><code>([^<]+)</code></li>", browser.submit(browser.get("/stepup/recovery-codes"), "").text
    )
    browser.logout()

    browser.login("alice")
    old = browser.pass_challenge(browser.follow(browser.get("/")), "recovery", first[0])
    assert old.status_code == 400
    assert browser.pass_challenge(browser.follow(browser.get("/")), "recovery", second[0]).location == "/"
