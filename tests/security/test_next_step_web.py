"""The attack list on "Call me instead", on both adapters: a step fired through someone
else's challenge, from a session a logout ended, before it is due, or past the caller's
limits sends nothing, and a refused press costs nothing. (Its CSRF token:
tests/adapters/test_csrf.py; its JSON-only API: tests/adapters/test_workflows_web.py.)"""

from __future__ import annotations

from tests.support.flows import held, signed_in


def _started(bank, browser):
    created = browser.post("/stepup/api/challenges", json={"method": "sms"})
    assert created.status_code == 201, created.text
    return created.json()["verify_url"].replace("/verify", "/next")


def test_another_users_challenge_fires_nothing(bank):
    next_url = _started(bank, held(bank))
    bank.clock.advance(120)
    carol = signed_in(bank, "carol", "totp")

    forged = carol.post(next_url, json={})

    assert forged.status_code == 403 and forged.json()["code"] == "challenge_forbidden"
    assert bank.voice.outbox == []


def test_a_copy_of_the_session_after_logout_fires_nothing(bank):
    alice = held(bank)
    next_url = _started(bank, alice)
    copy = bank.twin(alice)  # the cookies as they were, kept by someone
    alice.logout()
    bank.clock.advance(120)

    replayed = copy.post(next_url, json={})

    assert replayed.status_code in (401, 403)
    assert bank.voice.outbox == []


def test_early_presses_cost_nothing(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_CLIENT="2/hour")
    alice = held(bank)
    next_url = _started(bank, alice)  # the first of the client's two

    early = [alice.post(next_url, json={}).status_code for _ in range(5)]
    called_early = list(bank.voice.outbox)
    bank.clock.advance(120)
    due = alice.post(next_url, json={})

    assert early == [429] * 5 and called_early == []
    assert due.status_code == 200  # the five refused presses were never charged
    assert len(bank.voice.outbox) == 1


def test_a_step_is_charged_to_the_client(make_bank):
    bank = make_bank(STEPUP_LIMIT_CHALLENGES_PER_CLIENT="1/hour")
    alice = held(bank)
    next_url = _started(bank, alice)  # the client's one
    bank.clock.advance(120)

    refused = alice.post(next_url, json={})

    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert bank.voice.outbox == []


def test_a_verified_challenge_calls_nobody(bank):
    alice = held(bank)
    created = alice.post("/stepup/api/challenges", json={"method": "sms"}).json()
    alice.post(created["verify_url"], json={"code": bank.code("sms")})
    bank.clock.advance(120)

    late = alice.post(created["verify_url"].replace("/verify", "/next"), json={})

    assert late.status_code in (403, 410)
    assert bank.voice.outbox == []
