"""Sessions: logging out ends challenges and grants, and links of one session do nothing
in another."""

from __future__ import annotations


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
    assert browser.get("/stepup/api/status").json()["held"] is True


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
    assert stranger.get("/stepup/api/status").json()["code"] == "not_signed_in"
