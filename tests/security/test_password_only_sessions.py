"""What a session that passed only the password can make stepup do for its subject.

An attacker who phished a password signs in with it and stays held: they must not make
recovery codes that outlast the user's phone, push the user's saved requests out or
block new ones, spend the user's whole challenge budget from one login, verify contacts
as if signed in, or read the account's bindings. Each test attacks over HTTP, on both
adapters.
"""

from __future__ import annotations

from tests.support.flows import PROBLEM, ask_transfer, challenge, held, signed_in

JSON = {"Accept": "application/json"}
BACK_UP = "Recovery codes back up a sign-in method"


def csrf_of(browser):
    return browser.form(browser.get("/logout"), "/logout").fields["csrf_token"]


def bind_phone_at_login(bank, user, number):
    """The real user signs in with the password and binds ``number`` as the login asks."""
    browser = held(bank, user)
    bind_page = browser.follow(browser.follow(browser.get("/")))
    assert "/stepup/bind/phone" in bind_page.url, bind_page.url
    sent = browser.submit(bind_page, "", phone=number)
    assert browser.enter(sent.location, bank.code("sms")).status_code == 303
    return browser


# -- A: recovery codes ------------------------------------------------------------------------


def test_a_password_alone_makes_no_recovery_codes(bank):
    """bob has nothing bound: codes made with his password would sign the attacker in
    after the real bob binds a phone."""
    attacker = held(bank, "bob")

    page = attacker.get("/stepup/recovery-codes")
    made = attacker.post("/stepup/recovery-codes", data={"csrf_token": csrf_of(attacker)})
    api = attacker.post("/stepup/api/bindings", json={"method": "recovery"})

    for answer in (page, made):
        assert answer.status_code == 409 and BACK_UP in answer.text, (answer.status_code, answer.text[:500])
        assert "<li><code>" not in answer.text and "<form" not in answer.text.split("<main")[-1]
    assert api.status_code != 201 and api.headers["content-type"].startswith(PROBLEM) and "codes" not in api.json()
    assert bank.bindings("bob") == []
    bind_phone_at_login(bank, "bob", "+447700900299")
    attacker.logout()
    attacker.login("bob")
    assert attacker.offered(attacker.follow(attacker.get("/"))) == ["Text message: +44 •••• ••0299"]


def test_codes_left_from_before_a_first_method_end_when_it_is_bound(bank):
    """bob's phone was removed and his old codes stayed: they stand for nothing his
    password does not, so he is told to add a method, and binding one ends them."""
    phone = bank.call("import_binding", "bob", "sms", "+447700900298")
    codes = bank.call("generate_recovery_codes", "bob")
    bank.call("unbind", "bob", phone.id)
    bob = held(bank, "bob")

    asked = bob.get("/stepup/recovery-codes")
    assert asked.status_code == 409 and BACK_UP in asked.text
    bob.logout()
    bind_phone_at_login(bank, "bob", "+447700900299")

    assert [b.method for b in bank.bindings("bob")] == ["sms"]
    attacker = held(bank, "bob")
    choose = attacker.follow(attacker.get("/"))
    assert attacker.offered(choose) == ["Text message: +44 •••• ••0299"]
    created = attacker.post("/stepup/api/challenges", json={"method": "recovery"})
    assert created.status_code == 422 and created.json()["code"] == "method_not_available"
    assert codes and attacker.get("/transfers").status_code != 200


def test_with_a_method_bound_codes_need_a_fresh_second_factor(bank):
    alice = signed_in(bank)
    bank.clock.advance(301)  # past sensitive_max_age

    asked = alice.get("/stepup/recovery-codes")
    assert asked.status_code == 303 and "?r=" in (asked.location or "")
    made = alice.submit(alice.follow(alice.pass_challenge(alice.follow(asked), "sms")), "")

    assert made.status_code == 200 and made.text.count("<li><code>") == 10


# -- D: a held login saves nothing for the subject, and one login cannot evict another's --------


def test_a_held_login_cannot_push_out_or_block_the_users_pending_transfer(bank):
    victim = signed_in(bank)
    pending = ask_transfer(victim, "bob", "50")
    assert pending.status_code == 303 and "?r=" in (pending.location or "")
    attacker = held(bank)
    doors = [
        lambda: attacker.get("/stepup/recovery-codes"),
        lambda: attacker.get("/stepup/bind/totp"),
        lambda: attacker.post("/stepup/api/bindings", json={"method": "totp"}),
    ]

    answers = [doors[n % 3]() for n in range(62)]

    for answer in answers:
        assert answer.status_code in (303, 401), (answer.status_code, answer.text[:300])
        assert "?r=" not in (answer.location or "")
        assert answer.status_code == 303 or "resume" not in answer.json()
    assert answers[0].location == "/stepup/?next=/stepup/recovery-codes"
    approved = victim.pass_challenge(victim.get(pending.location), "sms")
    assert "Transferred 50.00 to bob" in approved.text
    assert ask_transfer(victim, "bob", "60").status_code == 303


def test_one_login_cannot_push_out_or_block_another_logins_saved_requests(bank):
    """With 2FA at login off, a password alone is a login that is not held: its requests
    to protected routes are saved, but charged and capped per login."""
    bank.call("set_login_2fa", False, "subject", "alice")
    victim = held(bank)
    pending = ask_transfer(victim, "bob", "50")
    assert pending.status_code == 303
    attacker = held(bank)

    flood = [ask_transfer(attacker, "mallory", str(n)) for n in range(1, 23)]

    assert all(a.status_code == 303 for a in flood[:20])
    assert flood[-1].status_code == 429 and "Too many requests (20 per 15 minutes)" in flood[-1].text
    approved = victim.pass_challenge(victim.get(pending.location), "sms")
    assert "Transferred 50.00 to bob" in approved.text
    assert ask_transfer(victim, "bob", "60").status_code == 303


# -- E: challenges of one held login -------------------------------------------------------------


def test_one_held_login_cannot_spend_the_users_whole_challenge_budget(bank):
    attacker = held(bank)
    started = [attacker.post("/stepup/api/challenges", json={"method": "sms"}) for _ in range(4)]

    assert [s.status_code for s in started] == [201, 201, 201, 429]
    assert started[-1].json()["code"] == "rate_limited" and int(started[-1].headers["Retry-After"]) > 0
    sent = len(bank.sms.outbox)
    victim = held(bank)
    assert challenge(victim)["purpose"] == "login"
    assert len(bank.sms.outbox) == sent + 1


# -- I: contact verification for signed-in users ---------------------------------------------------


def test_contact_verification_takes_a_held_login_as_not_signed_in(make_bank):
    bank = make_bank(STEPUP_CONTACT_VERIFICATION="1")

    refused = held(bank).post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})
    allowed = signed_in(bank).post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"})

    assert refused.status_code == 401 and refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "insufficient_user_authentication"
    assert allowed.status_code == 201
    assert [m.to for m in bank.sms.outbox if m.purpose == "contact"] == ["+447700900888"]


# -- M and the account's bindings ---------------------------------------------------------------


def test_head_of_the_bindings_api_answers_as_get(bank):
    alice = signed_in(bank)

    head = alice.open("/stepup/api/bindings", "HEAD", headers=JSON)
    get = alice.get("/stepup/api/bindings", headers=JSON)

    assert head.status_code == 200 == get.status_code
    assert head.headers["content-type"].startswith("application/json") and head.text == ""


def test_a_held_login_reads_no_bindings_but_what_the_choose_page_shows(bank):
    attacker = held(bank)
    ids = {b.id for b in bank.bindings("alice")}

    account = attacker.get("/stepup/account")
    api = attacker.get("/stepup/api/bindings", headers=JSON)
    status = attacker.get("/stepup/api/status", headers=JSON)

    assert account.status_code == 303 and account.location == "/stepup/?next=/stepup/account"
    assert api.status_code == 401 and api.json()["code"] == "insufficient_user_authentication"
    assert not any(i in account.text + api.text for i in ids)
    # The status is the JSON client's choose page: the methods it may use, masked.
    assert status.status_code == 200 and status.json()["held"] is True
    assert [m["label"] for m in status.json()["methods"]] == ["+44 •••• ••0001", "a•••@example.com"]
