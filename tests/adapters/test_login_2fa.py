"""2FA at login: the app's own login view is untouched; stepup holds the session after it
until a second factor passes."""

from __future__ import annotations

import pytest


def test_a_fresh_login_reaches_only_stepup_login_and_logout(bank):
    browser = bank.browser()
    assert browser.login("alice").status_code == 303

    for path in ("/", "/account", "/transfers", "/transfer"):
        held = browser.get(path)
        assert held.status_code == 303
        assert held.location == f"/stepup/?next={path}"
    choose = browser.get("/stepup/?next=/")
    assert choose.status_code == 200
    assert "Verify it's you" in choose.text
    assert browser.get("/login").status_code == 200
    assert browser.get("/logout").status_code == 200
    out = browser.logout()
    assert out.status_code == 303 and out.location == "/login"
    assert browser.get("/").location.startswith("/login")


def test_a_held_post_goes_to_the_choose_page_and_does_nothing(bank):
    browser = bank.browser()
    browser.login("alice")
    form_page = browser.get("/transfer")
    assert form_page.status_code == 303

    response = browser.post("/transfer", data={"to": "bob", "amount": "50"})

    assert response.status_code == 303 and response.location.startswith("/stepup/?next=")
    assert bank.sms.outbox == []


def test_a_held_json_request_gets_401_insufficient_user_authentication(bank):
    browser = bank.browser()
    browser.login("alice")

    response = browser.get("/api/balance", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["WWW-Authenticate"]
    assert response.json()["challenges_url"] == "/stepup/api/challenges"


def test_static_files_stay_reachable_while_held(lab):
    browser = lab.browser()
    browser.login("dana")

    assert browser.get("/").status_code == 303
    css = browser.get("/static/app.css")
    assert css.status_code == 200 and "color" in css.text


def test_a_page_that_only_begins_like_logout_is_held(lab):
    browser = lab.browser()
    browser.login("dana")

    held = browser.get("/logout-history")

    assert held.status_code == 303 and held.location == "/stepup/?next=/logout-history"
    assert browser.logout().status_code == 302


@pytest.mark.parametrize(("user", "method"), [("alice", "sms"), ("alice", "email"), ("carol", "totp")])
def test_login_with_each_method_lands_on_the_page_asked_for(bank, user, method):
    browser = bank.browser()
    browser.login(user)
    choose = browser.follow(browser.get("/transfers"))

    landed = browser.pass_challenge(choose, method)

    assert landed.status_code == 303 and landed.location == "/transfers"
    assert "Your transfers" in browser.follow(landed).text
    assert "Welcome, " + user in browser.get("/").text


def test_the_codes_name_the_bank_and_go_only_where_chosen(bank):
    browser = bank.browser()
    browser.login("alice")
    choose = browser.follow(browser.get("/"))

    code_page = browser.get(browser.choose(choose, "email").location)

    assert bank.sms.outbox == []
    assert bank.email.last.to == "alice@example.com"
    assert "Demo Bank sign-in code" in bank.email.last.body
    assert "a•••@example.com" in code_page.text


def test_alice_chooses_among_her_methods_with_masked_targets(bank):
    browser = bank.browser()
    browser.login("alice")

    choose = browser.follow(browser.get("/"))

    assert browser.offered(choose) == ["Text message: +44 •••• ••0001", "Email: a•••@example.com"]
    assert "+447700900001" not in choose.text and "alice@example.com" not in choose.text
    code_page = browser.get(browser.choose(choose, "sms").location)
    assert "We sent a code to <strong>+44 •••• ••0001</strong>" in code_page.text


def test_login_with_a_recovery_code_works_once(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    made = browser.submit(browser.get("/stepup/recovery-codes"), "")
    codes = [line.split("<code>")[1].split("</code>")[0] for line in made.text.split("<li>")[1:]]
    assert len(codes) == 10
    browser.logout()

    browser.login("alice")
    landed = browser.pass_challenge(browser.follow(browser.get("/")), "recovery", codes[0])
    assert landed.status_code == 303 and landed.location == "/"
    assert "Welcome, alice" in browser.follow(landed).text
    browser.logout()

    browser.login("alice")
    reused = browser.pass_challenge(browser.follow(browser.get("/")), "recovery", codes[0])
    assert reused.status_code == 400
    assert "That code is not right" in reused.text
    assert browser.get("/").status_code == 303


def test_a_user_with_nothing_bound_binds_a_phone_first(bank):
    browser = bank.browser()
    browser.login("bob")
    choose = browser.follow(browser.get("/"))
    assert choose.status_code == 303 and choose.location == "/stepup/bind/phone?next=/"
    bind_page = browser.follow(choose)
    assert "Add your mobile number" in bind_page.text

    sent = browser.submit(bind_page, "", phone="+44 7700 900222")
    assert sent.status_code == 303
    assert bank.sms.last.to == "+447700900222"
    assert "confirms this phone number" in bank.sms.last.body
    assert browser.get("/").status_code == 303  # still held until the code passes

    bound = browser.enter(sent.location, bank.code("sms"))
    assert bound.status_code == 303 and bound.location == "/"
    assert "Welcome, bob" in browser.follow(bound).text
    assert [b.label for b in bank.bindings("bob")] == ["+44 •••• ••0222"]


def test_recovery_codes_alone_do_not_spare_the_first_binding(bank):
    # Codes are made only with a sign-in method bound: these outlived bob's only one.
    phone = bank.call("import_binding", "bob", "sms", "+447700900298")
    bank.call("generate_recovery_codes", "bob")
    bank.call("unbind", "bob", phone.id)
    browser = bank.browser()
    browser.login("bob")

    choose = browser.follow(browser.get("/"))
    by_api = browser.post("/stepup/api/challenges", json={"method": "recovery"})

    assert choose.status_code == 303 and choose.location == "/stepup/bind/phone?next=/"
    assert by_api.status_code == 422 and "Bind a phone" in by_api.json()["title"]


def test_binding_at_first_login_refuses_a_premium_rate_number(bank):
    browser = bank.browser()
    browser.login("bob")
    bind_page = browser.follow(browser.follow(browser.get("/")))

    refused = browser.submit(bind_page, "", phone="+44 909 879 0000")

    assert refused.status_code == 422
    assert "remium" in refused.text
    assert bank.sms.outbox == [] and bank.bindings("bob") == []


def test_logins_from_an_identity_source_switched_off_are_not_held(lab):
    lab.call("set_identity_source", "sso", False)
    sso, password = lab.browser(), lab.browser()

    sso.login("dana", source="sso")
    password.login("dana", source="password")

    assert sso.get("/").text == "Home of dana"
    assert password.get("/").status_code == 303


def test_json_login_for_each_method(bank):
    for user, method in [("alice", "sms"), ("alice", "email"), ("carol", "totp")]:
        browser = bank.browser()
        browser.login(user)
        assert browser.get("/api/balance", headers={"Accept": "application/json"}).status_code == 401

        created = browser.post("/stepup/api/challenges", json={"method": method})
        assert created.status_code == 201 and created.json()["purpose"] == "login"
        verified = browser.post(created.json()["verify_url"], json={"code": bank.code(method, user)})

        assert verified.status_code == 200 and verified.json()["approved"] is True
        balance = browser.get("/api/balance", headers={"Accept": "application/json"})
        assert balance.status_code == 200 and balance.json()["user"] == user
        bank.next_totp_step()


def test_an_authenticator_code_works_once(bank):
    browser = bank.browser()
    browser.sign_in("carol", "totp")
    code = bank.code("totp")
    browser.logout()

    browser.login("carol")
    reused = browser.pass_challenge(browser.follow(browser.get("/")), "totp", code)

    assert reused.status_code == 400 and "That code is not right" in reused.text


def test_json_login_with_a_recovery_code(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    page = browser.submit(browser.get("/stepup/recovery-codes"), "")
    code = page.text.split("<li><code>")[1].split("</code>")[0]
    browser.logout()
    browser.login("alice")

    status = browser.get("/stepup/api/status").json()
    recovery = next(m for m in status["methods"] if m["method"] == "recovery")
    created = browser.post("/stepup/api/challenges", json={"binding_id": recovery["id"]})
    assert created.json()["delivered"] is False and created.json()["target"] is None
    verified = browser.post(created.json()["verify_url"], json={"code": code})

    assert verified.json()["approved"] is True and verified.json()["method"] == "recovery"
    assert browser.get("/api/balance", headers={"Accept": "application/json"}).status_code == 200


def test_a_json_client_of_a_user_with_nothing_bound_is_told_there_is_no_method(bank):
    browser = bank.browser()
    browser.login("bob")

    held = browser.get("/api/balance", headers={"Accept": "application/json"})
    status = browser.get("/stepup/api/status").json()
    refused = browser.post("/stepup/api/challenges", json={"method": "sms"})

    assert held.status_code == 401
    assert status["held"] is True and status["methods"] == []
    assert refused.status_code == 422 and refused.json()["code"] == "method_not_available"
