"""The support console (``/stepup/admin/support``): an admin helps a user who lost their
phone without a shell, and nobody else can; each change needs a fresh second factor and
the form's CSRF token, names the admin in the audit trail, and is told to the user."""

from __future__ import annotations

import json

import pytest

from tests.security.test_enrolment_and_admin import remembered_admin
from tests.support.pages import forms_of

BOB_PHONE = "+447700900002"
CONSOLE = "/stepup/admin/support"


def give_bob_a_phone(bank):
    bank.call("import_binding", "bob", "sms", BOB_PHONE)
    return bank.bindings("bob")[0]


def admin(bank):
    """alice, the bank's admin, signed in with a code just now (fresh)."""
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    return browser


def console_of(browser, subject):
    page = browser.get(f"{CONSOLE}?subject={subject}")
    assert page.status_code == 200, (page.status_code, page.text[:1000])
    return page


def change_form(browser, page):
    """The fields of the console's first change form (its CSRF token and the subject)."""
    return next(f.fields for f in forms_of(page.text) if "action" in f.fields)


def test_an_admin_resets_bobs_lost_phone_and_bob_binds_again_at_his_next_login(bank):
    give_bob_a_phone(bank)
    browser = admin(bank)

    page = console_of(browser, "bob")
    assert "bob" in page.text and "+44" in page.text and BOB_PHONE not in page.text  # masked
    done = browser.press(page, action="reset_all")

    assert done.status_code == 303 and done.location == f"{CONSOLE}?subject=bob&done=reset_all"
    assert "Every method was removed" in browser.follow(done).text
    assert bank.bindings("bob") == []
    # bob is told, on the phone he had (should he still have it, he learns of it).
    assert bank.sms.outbox[-1].to == BOB_PHONE and "support reset your sign-in methods" in bank.sms.outbox[-1].body
    bob = bank.browser()
    bob.login("bob")
    choose = bob.follow(bob.get("/"))
    bind_page = bob.follow(choose) if choose.status_code == 303 else choose
    assert bind_page.url.startswith("/stepup/bind/phone"), bind_page.url
    code_page = bob.submit(bind_page, phone="+447700900333")
    assert bob.enter(code_page.location, bank.code("sms")).status_code == 303
    assert [b.label for b in bank.bindings("bob")] != [] and "Your transfers" in bob.get("/transfers").text
    events = [e for e in bank.call("audit_events", "bob") if e.type == "admin_action"]
    assert [(e.actor, e.detail["action"], e.detail["count"]) for e in events] == [("alice", "reset_all", 1)]
    assert events[0].context.get("route") == CONSOLE and events[0].context.get("client")


def test_a_session_signed_in_before_the_reset_binds_nothing_with_its_password(bank):
    # The lost phone's browser, or a thief's, may still be signed in: it must not bind its
    # own phone first, so that the owner finds it bound at their next sign-in.
    give_bob_a_phone(bank)
    old = bank.browser()
    old.sign_in("bob", "sms")
    admin_browser = admin(bank)
    admin_browser.press(console_of(admin_browser, "bob"), action="reset_all")

    for path in ("/stepup/bind/phone", "/stepup/bind/email"):
        page = old.get(path)
        assert page.status_code == 403 and "sign in again" in page.text.lower(), (path, page.status_code)
    assert bank.bindings("bob") == [] and bank.sms.outbox[-1].to == BOB_PHONE  # no code to a new number

    old.logout()
    old.login("bob")  # the next sign-in binds a new phone, at its login
    choose = old.follow(old.get("/"))
    bind_page = old.follow(choose) if choose.status_code == 303 else choose
    assert bind_page.url.startswith("/stepup/bind/phone"), bind_page.url


def test_an_admin_removes_one_method_and_the_user_is_told_on_the_others(bank):
    phone = give_bob_a_phone(bank)
    bank.call("import_binding", "bob", "email", "bob@example.com")
    browser = admin(bank)

    done = browser.press(console_of(browser, "bob"), action="reset_method", binding_id=phone.id)

    assert done.status_code == 303 and [b.method for b in bank.bindings("bob")] == ["email"]
    assert bank.email.outbox[-1].to == "bob@example.com" and "was removed" in bank.email.outbox[-1].body


def test_a_change_through_a_remembered_browser_runs_only_after_a_fresh_factor(make_bank):
    bank, browser = remembered_admin(make_bank)
    give_bob_a_phone(bank)

    page = browser.get(f"{CONSOLE}?subject=bob")
    assert page.status_code == 303 and page.location.startswith("/stepup/?")
    choose = browser.follow(page)
    token = browser.form(choose).fields["csrf_token"]
    posted = browser.post(CONSOLE, data={"csrf_token": token, "subject": "bob", "action": "reset_all"})
    assert posted.status_code == 303 and posted.location.startswith("/stepup/?r=")
    assert len(bank.bindings("bob")) == 1

    done = browser.pass_challenge(browser.follow(posted), "sms")
    assert done.status_code == 303 and done.location == f"{CONSOLE}?subject=bob&done=reset_all"
    assert bank.bindings("bob") == []


@pytest.mark.parametrize("user, method", [("bob", "sms"), ("carol", "totp")])
def test_a_user_who_is_not_an_admin_gets_403_on_every_console_route(bank, user, method):
    give_bob_a_phone(bank)
    browser = bank.browser()
    browser.sign_in(user, method)
    token = browser.form(browser.get("/stepup/account")).fields["csrf_token"]

    answers = [browser.get(CONSOLE), browser.get(f"{CONSOLE}?subject=alice")] + [
        browser.post(CONSOLE, data={"csrf_token": token, "subject": "alice", "action": action})
        for action in ("unlock", "reset_all", "forget_browsers", "end_challenges", "reset_method")
    ]

    assert [a.status_code for a in answers] == [403] * 7
    assert all("Only administrators" in a.text and "+44" not in a.text for a in answers)
    assert [b.method for b in bank.bindings("alice")] == ["sms", "email"]
    assert not [e for e in bank.call("audit_events", "alice") if e.type in ("admin_action", "admin_viewed")]


def test_every_look_at_a_user_is_on_their_trail_with_the_admin_who_looked(bank):
    give_bob_a_phone(bank)
    browser = admin(bank)
    first = console_of(browser, "bob")
    assert "admin_viewed" not in first.text  # a look is not shown on its own page
    console_of(browser, "bob")  # looked at again within five minutes: counted, not stored twice

    looks = [e for e in bank.call("audit_events", "bob") if e.type == "admin_viewed"]
    assert [(e.actor, e.subject, e.detail.get("repeats")) for e in looks] == [("alice", "bob", 1)]
    assert looks[0].context.get("route") == CONSOLE and looks[0].context.get("client")
    assert "admin_viewed by alice" in console_of(browser, "bob").text  # the next look shows it


def test_a_look_at_a_user_nobody_knows_stores_nothing(bank):
    browser = admin(bank)
    for i in range(20):
        console_of(browser, f"made-up-{i}-" + "x" * 180)
    assert all(bank.call("audit_events", f"made-up-{i}-" + "x" * 180) == [] for i in range(20))


def test_a_stranger_is_asked_to_sign_in(bank):
    assert bank.browser().get(f"{CONSOLE}?subject=bob").status_code == 401


def test_a_change_without_the_forms_csrf_token_changes_nothing(bank):
    give_bob_a_phone(bank)
    browser = admin(bank)

    missing = browser.post(CONSOLE, data={"subject": "bob", "action": "reset_all"})
    forged = browser.post(CONSOLE, data={"csrf_token": "x" * 40, "subject": "bob", "action": "reset_all"})

    assert missing.status_code == 400 and forged.status_code == 400
    assert len(bank.bindings("bob")) == 1 and not bank.sms.outbox[-1].to == BOB_PHONE


def test_bad_input_is_refused_with_a_message_and_changes_nothing(bank):
    give_bob_a_phone(bank)
    alice = bank.bindings("alice")[0]
    browser = admin(bank)
    page = console_of(browser, "bob")

    unknown = browser.post(CONSOLE, data={**change_form(browser, page), "action": "delete_everything"})
    # alice's binding id, sent as bob's: there is no such binding of bob.
    other = browser.post(CONSOLE, data={**change_form(browser, page), "action": "reset_method", "binding_id": alice.id})
    long_subject = browser.get(f"{CONSOLE}?subject={'b' * 300}")
    no_method = browser.post(CONSOLE, data={**change_form(browser, page), "action": "unlock", "method": "pigeon"})

    assert unknown.status_code == 400 and "Unknown action" in unknown.text
    assert other.status_code == 400 and "No such binding" in other.text
    assert long_subject.status_code == 422 and "at most 200 characters" in long_subject.text
    assert no_method.status_code == 400 and "Unknown method" in no_method.text and "pigeon" in no_method.text
    assert len(bank.bindings("bob")) == 1 and len(bank.bindings("alice")) == 2
    assert not [e for e in bank.call("audit_events", "bob") if e.type in ("admin_action", "unlocked")]


def test_an_admin_unlocks_a_locked_method(make_bank):
    bank = make_bank(STEPUP_LOCKOUT_AFTER=3, STEPUP_BACKOFF_AFTER=100)
    give_bob_a_phone(bank)
    bob = bank.browser()
    bob.login("bob")
    code_url = bob.choose(bob.follow(bob.get("/")), "sms").location
    for _ in range(3):
        bob.enter(code_url, "000000")
    browser = admin(bank)
    page = console_of(browser, "bob")
    assert "Locked" in page.text

    done = browser.press(page, action="unlock", method="sms")

    assert done.status_code == 303 and "Locked" not in browser.follow(done).text
    bank.clock.advance(60)
    assert bob.pass_challenge(bob.follow(bob.get("/")), "sms").status_code == 303


def test_ending_pending_challenges_stops_their_codes(bank):
    give_bob_a_phone(bank)
    bob = bank.browser()
    bob.login("bob")
    code_url = bob.choose(bob.follow(bob.get("/")), "sms").location
    code_form = bob.form(bob.get(code_url), "/stepup/code/")
    code = bank.code("sms")
    browser = admin(bank)
    page = console_of(browser, "bob")
    assert "for login" in page.text

    done = browser.press(page, action="end_challenges")

    assert done.status_code == 303 and "for login" not in browser.follow(done).text
    assert bob.post(code_form.action, data={**code_form.fields, "code": code}).status_code == 410
    assert bob.get("/").status_code == 303  # still held


def test_forgetting_bobs_browsers_asks_him_for_a_factor_again(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)
    give_bob_a_phone(bank)
    bob = bank.browser()
    bob.login("bob")
    code_url = bob.choose(bob.follow(bob.get("/")), "sms").location
    assert bob.enter(code_url, bank.code("sms"), remember="y").status_code == 303
    browser = admin(bank)

    done = browser.press(console_of(browser, "bob"), action="forget_browsers")

    assert done.status_code == 303
    bob.logout()
    bob.login("bob")
    assert bob.get("/").status_code == 303


def test_the_console_shows_no_code_or_secret(make_bank):
    bank = make_bank()
    browser = admin(bank)
    bank.call("import_binding", "bob", "totp", secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    bob = bank.browser()
    bob.login("bob")
    bob.choose(bob.follow(bob.get("/")), "totp")
    page = console_of(browser, "bob")
    dumped = json.dumps([e.as_dict() for e in bank.call("audit_events", "bob")])

    for secret in ("JBSWY3DPEHPK3PXPJBSWY3DP", "JBSW Y3DP"):
        assert secret not in page.text and secret not in dumped
