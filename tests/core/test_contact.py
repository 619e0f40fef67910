"""Contact verification, in the shape of Vonage Verify: request, check, cancel."""

from __future__ import annotations

import pytest

import stepup

PHONE = "+44 7400 123456"
E164 = "+447400123456"


@pytest.fixture
def engine(stepup_kit):
    return stepup_kit.engine()


def _wrong(code: str) -> str:
    return "0" * len(code) if code != "0" * len(code) else "1" * len(code)


def test_request_sends_an_sms_and_the_right_code_confirms_the_number(stepup_kit, engine):
    request_id = engine.contact.request("sms", PHONE)
    assert isinstance(request_id, str) and len(request_id) >= 22
    message = stepup_kit.sms.last
    assert (message.channel, message.to, message.purpose) == ("sms", E164, "contact")

    result = engine.contact.check(request_id, stepup_kit.sms_code())
    assert isinstance(result, stepup.ContactResult)
    assert (result.request_id, result.channel, result.to) == (request_id, "sms", E164)
    assert result.verified_at == stepup_kit.clock()


def test_three_wrong_codes_end_the_request(stepup_kit, engine):
    request_id = engine.contact.request("sms", PHONE)
    code = stepup_kit.sms_code()
    for left in (2, 1):
        with pytest.raises(stepup.WrongCode) as wrong:
            engine.contact.check(request_id, _wrong(code))
        assert wrong.value.attempts_left == left
    with pytest.raises(stepup.ChallengeExhausted):
        engine.contact.check(request_id, _wrong(code))
    with pytest.raises(stepup.ChallengeExhausted):
        engine.contact.check(request_id, code)  # too late for the right one


def test_two_resends_at_most_and_only_the_newest_code_counts(stepup_kit, engine):
    request_id = engine.contact.request("sms", PHONE)
    with pytest.raises(stepup.ResendTooSoon) as soon:
        engine.resend(request_id)
    assert soon.value.retry_after == 30
    for _ in range(2):
        stepup_kit.clock.advance(30)
        engine.resend(request_id)
    stepup_kit.clock.advance(30)
    with pytest.raises(stepup.NoSendsLeft):
        engine.resend(request_id)
    assert len(stepup_kit.sms.outbox) == 3
    assert engine.contact.check(request_id, stepup_kit.sms_code()).to == E164


def test_a_cancelled_request_takes_no_code(stepup_kit, engine):
    request_id = engine.contact.request("sms", PHONE)
    engine.contact.cancel(request_id)
    with pytest.raises(stepup.ChallengeClosed):
        engine.contact.check(request_id, stepup_kit.sms_code())


def test_contact_code_length_per_channel(stepup_kit):
    engine = stepup_kit.engine(contact_code_length={"sms": 4, "email": 6})
    request_id = engine.contact.request("sms", PHONE)
    code = stepup_kit.sms_code()
    assert len(code) == 4
    engine.contact.request("email", "kim@example.com")
    assert len(stepup_kit.email_code()) == 6
    assert engine.contact.check(request_id, code).to == E164


def test_email_channel(stepup_kit, engine):
    request_id = engine.contact.request("email", "Kim.Lee@Example.COM")
    message = stepup_kit.email.last
    assert message.to == "Kim.Lee@example.com"
    assert message.subject  # an email has a subject line
    assert stepup_kit.sms.outbox == []
    result = engine.contact.check(request_id, stepup_kit.email_code())
    assert (result.channel, result.to) == ("email", "Kim.Lee@example.com")


def test_premium_rate_number_is_refused_before_anything_is_sent(stepup_kit, engine):
    with pytest.raises(stepup.InvalidPhoneNumber) as refused:
        engine.contact.request("sms", "+44 909 879 0000")
    assert refused.value.reason == "premium_rate"
    assert refused.value.status == 422
    assert stepup_kit.sms.outbox == []
    assert stepup_kit.events == []


def test_contact_requests_and_logins_do_not_mix(stepup_kit, engine):
    request_id = engine.contact.request("sms", PHONE)
    contact_code = stepup_kit.sms_code()
    with pytest.raises(stepup.ChallengeForbidden):
        engine.verify(request_id, contact_code, subject="mallory")  # not a login of mallory

    stepup_kit.bind_phone(engine, "alice", "+44 7555 123456")
    login = engine.start("alice", "sms", "login")
    with pytest.raises(stepup.ChallengeForbidden):
        engine.contact.check(login.id, stepup_kit.sms_code())
    # Neither attempt used up anything: both codes still work for their owners.
    assert engine.verify(login.id, stepup_kit.sms_code(), subject="alice").subject == "alice"
    assert engine.contact.check(request_id, contact_code).to == E164
