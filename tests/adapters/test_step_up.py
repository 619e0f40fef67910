"""Route protection: ``@step_up_required(max_age=...)``, ``methods=``, and whole blueprints."""

from __future__ import annotations

JSON = {"Accept": "application/json"}


def test_a_fresh_grant_lets_the_route_through_and_an_old_one_asks_again(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    assert browser.get("/report").text == "The quarterly report"

    lab.clock.advance(61)
    asked = browser.get("/report")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    choose = browser.follow(asked)
    assert "Confirm it's you" in choose.text

    back = browser.pass_challenge(choose, "email")
    assert back.status_code == 303 and back.location == "/report"
    assert browser.follow(back).text == "The quarterly report"

    lab.clock.advance(61)
    assert browser.get("/report").status_code == 303


def test_the_bank_home_asks_again_after_its_max_age(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    bank.clock.advance(3600)
    assert "Welcome, alice" in browser.get("/").text

    bank.clock.advance(1)
    asked = browser.get("/")
    assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    back = browser.pass_challenge(browser.follow(asked), "email")
    assert back.location == "/"
    assert bank.email.last.subject == "Your Demo Bank verification code"


def test_the_query_string_survives_the_step_up(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab.clock.advance(61)

    asked = browser.get("/report?year=2024&q=a%26b")
    back = browser.pass_challenge(browser.follow(asked), "sms")

    assert back.location == "/report?year=2024&q=a%26b"


def test_a_route_that_accepts_only_email_offers_only_email(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")

    asked = browser.get("/email-only")
    assert asked.status_code == 303  # a fresh SMS grant is not what this route accepts
    choose = browser.follow(asked)
    assert browser.offered(choose) == ["Email: d•••@example.com"]

    back = browser.pass_challenge(choose, "email")
    assert browser.follow(back).text == "Verified by email"
    assert browser.get("/report").text == "The quarterly report"


def test_a_route_with_no_method_the_user_has_says_so(lab):
    browser = lab.browser()
    browser.sign_in("erin", "totp")

    choose = browser.follow(browser.get("/email-only"))

    assert choose.status_code == 409
    assert "No method available" in choose.text


def test_a_whole_blueprint_or_mount_is_protected(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    lab.clock.advance(61)

    for path in ("/vault/", "/vault/keys"):
        asked = browser.get(path)
        assert asked.status_code == 303 and asked.location.startswith("/stepup/?r=")
    back = browser.pass_challenge(browser.follow(browser.get("/vault/keys")), "sms")

    assert browser.follow(back).text == "The keys"
    assert browser.get("/vault/").text == "The vault"
    assert browser.get("/").text == "Home of dana"  # the rest of the app is not affected


def test_totp_step_up(lab):
    browser = lab.browser()
    browser.sign_in("erin", "totp")
    lab.clock.advance(61)

    back = browser.pass_challenge(browser.follow(browser.get("/report")), "totp")

    assert browser.follow(back).text == "The quarterly report"


def test_json_step_up_with_resume(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")
    assert browser.get("/api/balance", headers=JSON).status_code == 200
    bank.clock.advance(301)

    asked = browser.get("/api/balance", headers=JSON)
    assert asked.status_code == 401
    assert 'max_age="300"' in asked.headers["WWW-Authenticate"]
    assert asked.json()["code"] == "insufficient_user_authentication"

    created = browser.post("/stepup/api/challenges", json={"method": "email", "resume": asked.json()["resume"]})
    assert created.status_code == 201 and created.json()["purpose"] == "step_up"
    verified = browser.post(created.json()["verify_url"], json={"code": bank.code("email")})

    assert verified.json() == {"approved": True, "method": "email", "purpose": "step_up", "next": "/api/balance"}
    assert browser.get("/api/balance", headers=JSON).json()["balance"] == "1250.00"


def test_status_tells_a_client_whether_a_step_up_is_needed(bank):
    browser = bank.browser()
    browser.sign_in("alice", "sms")

    fresh = browser.get("/stepup/api/status?max_age=300").json()
    bank.clock.advance(301)
    stale = browser.get("/stepup/api/status?max_age=300").json()

    assert fresh["step_up_required"] is False and fresh["held"] is False
    assert stale["step_up_required"] is True
    assert [m["method"] for m in stale["methods"]] == ["sms", "email"]
    assert stale["last_verified_at"] == bank.clock() - 301


def test_a_method_switched_off_for_one_app_stays_on_in_the_others(lab):
    lab.call("set_method", "sms", False, "app", "vault")
    browser = lab.browser()
    browser.sign_in("dana", "email")
    lab.clock.advance(61)

    vault = browser.follow(browser.get("/vault/keys"))
    lobby = browser.follow(browser.get("/lobby/report"))

    assert browser.offered(vault) == ["Email: d•••@example.com"]
    assert browser.offered(lobby) == ["Text message: +44 •••• ••0101", "Email: d•••@example.com"]
    assert browser.follow(browser.pass_challenge(lobby, "sms")).text == "The lobby report"
