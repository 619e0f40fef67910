"""Races over HTTP: many clients of one session (each with its own connection and a copy of
the session cookie) send their requests at the same moment, against the app in process.
However they interleave, a challenge evaluates exactly three codes, a right code approves
once, and the approved operation runs once. (tests/core/test_concurrency.py races the
engine itself in threads, processes and asyncio; this races the whole web stack.)"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.flows import ask_transfer, challenge, held, race, signed_in, transfers, wrong_for

RACERS = 12


def _outcome(response) -> str:
    if response.status_code == 200:
        return "approved"
    body = response.json()
    if body["code"] == "wrong_code":
        return f"wrong, {body['attempts_left']} left"
    if body["code"] == "challenge_exhausted" and "no attempts are left" in body["title"]:
        return "wrong, exhausted"
    return f"refused {response.status_code}"  # not evaluated: already exhausted, or locked


def test_racing_wrong_codes_are_evaluated_exactly_three_times(bank):
    browser = held(bank)
    created = challenge(browser)
    wrong = wrong_for(bank.code("sms"))
    racers = [bank.twin(browser) for _ in range(RACERS)]

    answers = race([lambda r=r: r.post(created["verify_url"], json={"code": wrong}) for r in racers])

    outcomes = Counter(_outcome(a) for a in answers)
    assert outcomes.pop("wrong, 2 left") == 1
    assert outcomes.pop("wrong, 1 left") == 1
    assert outcomes.pop("wrong, exhausted") == 1
    assert set(outcomes) <= {"refused 410", "refused 429"}, outcomes
    # Three failures, not more: the back-off they set is its first step, one second.
    again = challenge(browser)
    locked = browser.post(again["verify_url"], json={"code": bank.code("sms")})
    assert locked.status_code == 429 and locked.json()["retry_after"] == 1
    bank.clock.advance(1)
    assert browser.post(again["verify_url"], json={"code": bank.code("sms")}).status_code == 200


def test_racing_wrong_codes_on_the_code_page_are_evaluated_exactly_three_times(bank):
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    page = browser.get(code_url)
    data = {**browser.form(page, "/stepup/code/").fields, "code": wrong_for(bank.code("sms"))}
    racers = [bank.twin(browser) for _ in range(RACERS)]

    answers = race([lambda r=r: r.post(code_url, data=data) for r in racers])

    # A wrong code that was evaluated answers 400 (its page shows the challenge as it stands
    # by then); the one that used the last attempt says so; the rest were never evaluated.
    outcomes = Counter(
        "wrong" if a.status_code == 400
        else "exhausted" if "no attempts are left" in a.text
        else f"refused {a.status_code}"
        for a in answers
    )  # fmt: skip
    assert (outcomes.pop("wrong"), outcomes.pop("exhausted")) == (2, 1)
    assert set(outcomes) <= {"refused 410", "refused 429"}, outcomes
    assert browser.get("/").status_code == 303


def test_racing_right_codes_approve_once_and_the_transfer_runs_once(bank):
    browser = signed_in(bank)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "75")), "sms").location
    data = {**browser.form(browser.get(code_url), "/stepup/code/").fields, "code": bank.code("sms")}
    racers = [bank.twin(browser) for _ in range(RACERS)]

    answers = race([lambda r=r: r.post(code_url, data=data) for r in racers])

    # One approves; the others find the code used (410) or, racing in behind two more
    # claims, the back-off (429): none runs anything.
    statuses = Counter(a.status_code for a in answers)
    assert statuses.pop(200) == 1 and set(statuses) <= {410, 429}, statuses
    assert sum("Transferred 75.00 to bob" in a.text for a in answers) == 1
    assert transfers(browser) == ["75.00 to bob"]


def test_two_challenges_of_one_transfer_approved_at_once_run_it_once(bank):
    browser = signed_in(bank)
    choose = browser.follow(ask_transfer(browser, "bob", "20"))
    by_sms = browser.choose(choose, "sms").location
    sms_code = bank.code("sms")
    by_email = browser.choose(browser.get(choose.url), "email").location
    email_code = bank.code("email")
    forms = {url: browser.form(browser.get(url), "/stepup/code/").fields for url in (by_sms, by_email)}
    one, two = bank.twin(browser), bank.twin(browser)

    answers = race([
        lambda: one.post(by_sms, data={**forms[by_sms], "code": sms_code}),
        lambda: two.post(by_email, data={**forms[by_email], "code": email_code}),
    ])  # fmt: skip

    assert sorted(a.status_code for a in answers) == [200, 410]
    assert sum("Transferred 20.00 to bob" in a.text for a in answers) == 1
    assert transfers(browser) == ["20.00 to bob"]


def test_racing_requests_with_one_approval_run_one_payment(lab, lab_records):
    browser = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "50.00"}
    asked = browser.post("/pay", json=payment)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    approval = browser.post(created["verify_url"], json={"code": lab.code("sms")}).json()["approval"]
    racers = [lab.twin(browser) for _ in range(RACERS)]

    answers = race([lambda r=r: r.post("/pay", json=payment, headers={"Stepup-Approval": approval}) for r in racers])

    assert Counter(a.status_code for a in answers) == {200: 1, 410: RACERS - 1}
    assert lab_records.payments == [("bob", "50.00")]


@pytest.mark.parametrize("sessions", [6])
def test_one_authenticator_code_passes_once_however_many_sessions_race_it(bank, sessions):
    browsers = [held(bank, "carol") for _ in range(sessions)]
    created = [challenge(b, method="totp") for b in browsers]
    code = bank.code("totp")

    answers = race(
        [lambda b=b, c=c: b.post(c["verify_url"], json={"code": code}) for b, c in zip(browsers, created, strict=True)]
    )

    assert Counter(a.status_code == 200 for a in answers) == {True: 1, False: sessions - 1}
    assert all(a.status_code in (200, 400, 429) for a in answers)
    assert sum(b.get("/stepup/api/status").json()["held"] is False for b in browsers) == 1


def test_guesses_racing_in_from_many_sessions_cannot_outrun_the_back_off_or_the_lock(make_bank):
    """Twelve sessions of one user (the password is known), one guess each, all at once,
    burst after burst as each back-off ends: the failures are counted as they come, so
    three get through before the first back-off, then one per back-off, and not one more
    than the lock allows (six here) is ever evaluated."""
    # All the sessions come from one address here; its own limit is not what is tested.
    bank = make_bank(STEPUP_LOCKOUT_AFTER=6, STEPUP_LIMIT_VERIFICATIONS_PER_CLIENT="1000/minute")
    sessions = [held(bank) for _ in range(RACERS)]
    created = [challenge(b) for b in sessions]
    wrong = wrong_for(bank.code("sms"))
    evaluated, waits = [], []
    for _ in range(5):
        answers = race(
            [
                lambda b=b, c=c: b.post(c["verify_url"], json={"code": wrong})
                for b, c in zip(sessions, created, strict=True)
            ]
        )
        outcomes = Counter(_outcome(a) for a in answers)
        evaluated.append(sum(n for outcome, n in outcomes.items() if outcome.startswith("wrong")))
        retry = max((a.json()["retry_after"] for a in answers if a.json().get("code") == "locked"), default=0)
        waits.append(retry)
        bank.clock.advance(retry)

    assert evaluated == [3, 1, 1, 1, 0]
    assert waits == [1, 2, 4, 0, 0]  # the sixth failure locked the method: no back-off to wait for
    owner = held(bank)
    assert owner.post("/stepup/api/challenges", json={"method": "sms"}).status_code == 423
