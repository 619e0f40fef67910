"""Rate limits and the failure back-off: a new challenge never resets brute force."""

from __future__ import annotations

import pytest

import stepup

PHONE = "+44 7400 123456"


def _start(engine: stepup.Engine, subject: str = "alice") -> stepup.Challenge:
    return engine.start(subject, "sms", "login")


@pytest.fixture
def alice(stepup_kit):
    """An engine where alice has a phone bound, and an empty outbox."""

    def make(**overrides):
        engine = stepup_kit.engine(**overrides)
        stepup_kit.bind_phone(engine, "alice", PHONE)
        stepup_kit.sms.outbox.clear()
        return engine

    return make


def test_sixth_challenge_in_fifteen_minutes_is_refused_until_the_window_passes(stepup_kit, alice):
    engine = alice(limit_challenges_per_target="50/hour", limit_sends_per_target="50/hour")
    for _ in range(4):  # the bind used one of the five
        _start(engine)
    with pytest.raises(stepup.RateLimited) as caught:
        _start(engine)
    error = caught.value
    assert error.limit == "challenges_per_subject"
    assert error.retry_after > 0
    assert f"Try again in {error.retry_after} s" in error.message
    assert len(stepup_kit.sms.outbox) == 4
    assert "rate_limited" in stepup_kit.types()

    stepup_kit.clock.advance(error.retry_after)
    assert _start(engine).state == "pending"


def test_challenges_per_target_count_across_subjects(stepup_kit):
    engine = stepup_kit.engine(limit_challenges_per_target="2/hour")
    engine.begin_bind("u1", "sms", PHONE)
    engine.begin_bind("u2", "sms", PHONE)
    with pytest.raises(stepup.RateLimited) as caught:
        engine.begin_bind("u3", "sms", PHONE)
    assert caught.value.limit == "challenges_per_target"
    assert len(stepup_kit.sms.outbox) == 2
    engine.begin_bind("u3", "sms", "+44 7555 123456")  # another number is not affected


def test_sends_per_target_count_resends(stepup_kit):
    engine = stepup_kit.engine(limit_sends_per_target="2/hour")
    request_id = engine.contact.request("sms", PHONE)
    stepup_kit.clock.advance(30)
    engine.resend(request_id)
    second_code = stepup_kit.sms_code()
    stepup_kit.clock.advance(30)
    with pytest.raises(stepup.RateLimited) as caught:
        engine.resend(request_id)
    assert caught.value.limit == "sends_per_target"
    assert len(stepup_kit.sms.outbox) == 2
    # The refused resend cost nothing: the code already sent still works.
    assert engine.contact.check(request_id, second_code).to == "+447400123456"

    with pytest.raises(stepup.RateLimited):
        engine.contact.request("sms", PHONE)
    stepup_kit.clock.advance(3600)
    engine.contact.request("sms", PHONE)
    assert len(stepup_kit.sms.outbox) == 3


def test_sms_per_country_per_day(stepup_kit):
    engine = stepup_kit.engine(limit_sms_per_country="2/day")
    engine.contact.request("sms", "+44 7400 123456")
    engine.contact.request("sms", "+44 7555 123456")
    with pytest.raises(stepup.RateLimited) as caught:
        engine.contact.request("sms", "+44 7700 123456")
    assert caught.value.limit == "sms_per_country"
    engine.contact.request("sms", "+353 85 123 4567")  # Ireland has its own budget
    assert [m.to for m in stepup_kit.sms.outbox] == ["+447400123456", "+447555123456", "+353851234567"]
    stepup_kit.clock.advance(86400)
    engine.contact.request("sms", "+44 7700 123456")


def test_sms_per_number_prefix_per_day(stepup_kit):
    engine = stepup_kit.engine(limit_sms_per_prefix="2/day")
    engine.contact.request("sms", "+44 7400 123456")
    engine.contact.request("sms", "+44 7400 123457")
    with pytest.raises(stepup.RateLimited) as caught:
        engine.contact.request("sms", "+44 7400 123458")  # the same +44 7400 1 range
    assert caught.value.limit == "sms_per_prefix"
    engine.contact.request("sms", "+44 7555 123456")
    assert len(stepup_kit.sms.outbox) == 3


def test_verifications_per_client_address(stepup_kit, alice):
    engine = alice(limit_verifications_per_client="2/minute")
    challenge = _start(engine)
    code = stepup_kit.sms_code()
    for left in (2, 1):
        with pytest.raises(stepup.WrongCode) as wrong:
            engine.verify(challenge.id, _wrong(code), subject="alice", client="203.0.113.9")
        assert wrong.value.attempts_left == left
    with pytest.raises(stepup.RateLimited) as caught:
        engine.verify(challenge.id, code, subject="alice", client="203.0.113.9")
    assert caught.value.limit == "verifications_per_client"
    # Refused before the code was looked at: the right code still works from elsewhere.
    assert engine.verify(challenge.id, code, subject="alice", client="198.51.100.7").purpose == "login"


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_failures_count_across_challenges_and_back_off_doubles(stepup_kit, alice):
    engine = alice()
    clock = stepup_kit.clock
    first = _start(engine)
    first_code = stepup_kit.sms_code()
    for _ in range(2):
        with pytest.raises(stepup.WrongCode):
            engine.verify(first.id, _wrong(first_code), subject="alice")
    second = _start(engine)  # a new challenge does not start the count again
    code = stepup_kit.sms_code()
    with pytest.raises(stepup.WrongCode):
        engine.verify(second.id, _wrong(code), subject="alice")

    with pytest.raises(stepup.TemporarilyLocked) as locked:
        engine.verify(second.id, code, subject="alice")  # even the right code waits
    assert (locked.value.retry_after, locked.value.locked_until) == (1, clock() + 1)
    clock.advance(1)
    with pytest.raises(stepup.WrongCode):
        engine.verify(second.id, _wrong(code), subject="alice")
    with pytest.raises(stepup.TemporarilyLocked) as locked:
        engine.verify(second.id, code, subject="alice")
    assert (locked.value.retry_after, locked.value.locked_until) == (2, clock() + 2)
    clock.advance(2)
    with pytest.raises(stepup.ChallengeExhausted):
        engine.verify(second.id, _wrong(code), subject="alice")
    third = _start(engine)  # a new challenge may be asked for at once...
    code = stepup_kit.sms_code()
    with pytest.raises(stepup.TemporarilyLocked) as locked:
        engine.verify(third.id, code, subject="alice")  # ...but its codes wait out the back-off
    assert locked.value.retry_after == 4
    clock.advance(4)
    with pytest.raises(stepup.WrongCode):
        engine.verify(third.id, _wrong(code), subject="alice")
    with pytest.raises(stepup.TemporarilyLocked) as locked:
        engine.verify(third.id, code, subject="alice")
    assert locked.value.retry_after == 8
    assert "Try again in 8 s" in locked.value.message
    clock.advance(8)
    assert engine.verify(third.id, code, subject="alice").purpose == "login"


def test_a_success_clears_the_failure_count(stepup_kit, alice):
    engine = alice()
    challenge = _start(engine)
    code = stepup_kit.sms_code()
    for _ in range(2):
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge.id, _wrong(code), subject="alice")
    engine.verify(challenge.id, code, subject="alice")

    challenge = _start(engine)
    code = stepup_kit.sms_code()
    for _ in range(2):
        with pytest.raises(stepup.WrongCode):
            engine.verify(challenge.id, _wrong(code), subject="alice")
    assert engine.verify(challenge.id, code, subject="alice").method == "sms"


def test_lockout_after_failures_in_a_row_until_an_admin_unlocks(stepup_kit, alice):
    engine = alice(lockout_after=10, backoff_max=1, limit_challenges_per_subject="20/hour",
                   limit_bound_challenges_per_target="20/hour", limit_bound_sends_per_target="20/hour")  # fmt: skip
    failures = 0
    while failures < 10:
        challenge = _start(engine)
        code = stepup_kit.sms_code()
        for _ in range(3):
            with pytest.raises((stepup.WrongCode, stepup.ChallengeExhausted)):
                engine.verify(challenge.id, _wrong(code), subject="alice")
            failures += 1
            stepup_kit.clock.advance(1)
            if failures == 10:
                break
    with pytest.raises(stepup.MethodLocked):
        engine.verify(challenge.id, code, subject="alice")  # the right code, still pending
    stepup_kit.clock.advance(86400)
    with pytest.raises(stepup.MethodLocked):
        _start(engine)
    assert "locked" in stepup_kit.types()

    engine.unlock("alice")
    challenge = _start(engine)
    assert engine.verify(challenge.id, stepup_kit.sms_code(), subject="alice").purpose == "login"


def test_rate_limited_event_names_the_limit(stepup_kit):
    engine = stepup_kit.engine(limit_challenges_per_target="1/hour", contact_parallel_requests=True)
    engine.contact.request("email", "someone@example.com")
    with pytest.raises(stepup.RateLimited):
        engine.contact.request("email", "someone@example.com")
    event = next(e for e in stepup_kit.events if e.type == "rate_limited")
    assert event.detail == {"limit": "challenges_per_target"}
    assert "someone@example.com" not in str(event.as_dict())


@pytest.mark.parametrize("spec", ["5/15 minutes", "500/day"])  # an exact window, and buckets
def test_a_hit_given_back_is_as_if_never_taken(spec):
    from stepup._ratelimit import Limit

    limit = Limit("challenges_per_subject", spec)
    record, _ = limit.take(None, 1000.0)
    record, _ = limit.take(record, 1010.0)
    taken, _ = limit.take(record, 1020.0)

    assert limit.give_back(taken, 1020.0) == record
    assert limit.give_back(None, 1020.0) is None
