"""Brute force: guessing codes past the three a challenge allows, opening new challenges to
start the count again, or spreading the guesses over many sessions of one user. The count
is per user and method in the store, so none of it helps. (test_json_api.py shows three
wrong codes exhausting one challenge and the first back-off; this goes further.)"""

from __future__ import annotations

import pytest

from tests.support.flows import api_url, challenge, held, wrong_for

#: a lock after 6 failures in a row, so the tests reach it quickly; the back-off starts
#: after 3 as by default.
QUICK_LOCK = {"STEPUP_LOCKOUT_AFTER": 6}


def guess(browser, created, code):
    return browser.post(created["verify_url"], json={"code": code})


def test_a_fourth_code_on_an_exhausted_challenge_is_not_even_evaluated(bank):
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    csrf = browser.form(browser.get(code_url), "/stepup/code/").fields["csrf_token"]
    right = bank.code("sms")
    for left in ("2 attempts left", "1 attempt left"):
        assert left in browser.enter(code_url, wrong_for(right)).text
    exhausted = browser.enter(code_url, wrong_for(right))
    bank.clock.advance(3600)  # past any back-off: only the challenge's own state speaks

    fourth = browser.post(code_url, data={"code": right, "csrf_token": csrf})
    fourth_api = browser.post(api_url(code_url), json={"code": right})

    assert exhausted.status_code == 410 and "no attempts are left" in exhausted.text
    assert fourth.status_code == 410 and "no longer works" in fourth.text
    assert fourth_api.status_code == 410 and fourth_api.json()["code"] == "challenge_exhausted"
    assert browser.get("/").status_code == 303


def test_new_challenges_do_not_start_the_count_again(make_bank):
    """Each new challenge has three attempts, but the user's failures go on counting: the
    back-off doubles (1, 2, 4 s) and then the method locks, whatever challenge is open."""
    bank = make_bank(**QUICK_LOCK)
    browser = held(bank)
    waits = []
    for _ in range(2):
        created = challenge(browser)
        for _ in range(3):
            answer = guess(browser, created, wrong_for(bank.code("sms")))
            if answer.status_code == 429:
                waits.append(answer.json()["retry_after"])
                bank.clock.advance(answer.json()["retry_after"])
                answer = guess(browser, created, wrong_for(bank.code("sms")))
            assert answer.status_code in (400, 410), answer.json()

    locked = browser.post("/stepup/api/challenges", json={"method": "sms"})

    assert waits == [1, 2, 4]  # after the 3rd, 4th and 5th failures; the 6th locked the method
    assert locked.status_code == 423 and locked.json()["code"] == "method_locked"
    assert browser.get("/stepup/api/status").json()["held"] is True


def test_guesses_spread_over_many_sessions_count_as_one(make_bank):
    """Six sessions of alice (the password is known), one guess each: the back-off the
    first three failures set holds in every other session, and the lock holds for all,
    the owner's right code included, until an administrator lifts it."""
    bank = make_bank(**QUICK_LOCK)
    sessions = [held(bank) for _ in range(6)]
    answers = []
    for browser in sessions:
        created = challenge(browser)
        answer = guess(browser, created, wrong_for(bank.code("sms")))
        if answer.status_code == 429:
            answers.append(("locked", answer.json()["retry_after"]))
            bank.clock.advance(answer.json()["retry_after"])
            answer = guess(browser, created, wrong_for(bank.code("sms")))
        answers.append((answer.json()["code"], answer.json().get("attempts_left")))

    owner = held(bank)
    refused = owner.post("/stepup/api/challenges", json={"method": "sms"})
    bank.call("unlock", "alice")
    unlocked = guess(owner, challenge(owner), bank.code("sms"))

    assert answers == [
        ("wrong_code", 2), ("wrong_code", 2), ("wrong_code", 2),
        ("locked", 1), ("wrong_code", 2), ("locked", 2), ("wrong_code", 2), ("locked", 4), ("wrong_code", 2),
    ]  # fmt: skip
    assert refused.status_code == 423 and refused.json()["code"] == "method_locked"
    assert unlocked.status_code == 200 and unlocked.json()["approved"] is True


def test_the_lock_of_one_user_leaves_the_others_alone(make_bank):
    bank = make_bank(**QUICK_LOCK)
    attacker = held(bank)
    for _ in range(2):
        created = challenge(attacker)
        for _ in range(3):
            answer = guess(attacker, created, wrong_for(bank.code("sms")))
            if answer.status_code == 429:
                bank.clock.advance(answer.json()["retry_after"])
                guess(attacker, created, wrong_for(bank.code("sms")))

    carol = held(bank, "carol")
    passed = carol.pass_challenge(carol.follow(carol.get("/")), "totp")

    assert attacker.post("/stepup/api/challenges", json={"method": "sms"}).status_code == 423
    assert passed.status_code == 303 and carol.get("/").status_code == 200


@pytest.mark.parametrize("method", ["sms", "email"])
def test_new_challenges_are_limited_per_user_on_the_pages_too(make_bank, method):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="2/15 minutes")
    browser = held(bank)
    choose = browser.follow(browser.get("/"))
    for _ in range(2):
        browser.choose(browser.get(choose.url), method)

    third = browser.submit(
        browser.get(choose.url), "/stepup/", binding=browser.form(choose, "/stepup/").radios["binding"][0][0]
    )

    assert third.status_code == 429 and "Too many requests" in third.text
    assert len(bank.sms.outbox) + len(bank.email.outbox) == 2
    bank.clock.advance(15 * 60)
    assert browser.choose(browser.get(choose.url), method).status_code == 303
