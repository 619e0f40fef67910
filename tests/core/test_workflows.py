"""Workflows on the frozen clock: a challenge's code goes by one channel after another,
each step at its time and never before, the same code every time, within the
challenge's send cap and expiry, by a worker's ``run_due`` or on request (``next_step``)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender

SECRET = "s" * 40
PHONE = "+447400123456"
_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def code_of(message: stepup.Message) -> str:
    found = _CODE.findall(message.body)
    assert len(found) == 1, message.body
    return str(found[0])


@pytest.fixture
def voice() -> MemorySender:
    return MemorySender()


@pytest.fixture
def make(engine_factory: Callable[..., stepup.Engine], voice: MemorySender) -> Callable[..., stepup.Engine]:
    def make(**overrides: Any) -> stepup.Engine:
        options: dict[str, Any] = {"senders": {"voice": voice}, "workflow": "sms:120,voice:180,voice"}
        engine = engine_factory(**{**options, **overrides})
        engine.import_binding("alice", "sms", PHONE)
        return engine

    return make


def test_steps_fire_at_their_times_never_before_with_one_code(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make()
    challenge = engine.start("alice", "sms", "login")
    assert challenge.next_event == stepup.NextEvent("voice", clock() + 120)
    code = code_of(sms.last)
    clock.advance(119)
    assert engine.run_due() == 0 and voice.outbox == []
    clock.advance(1)
    assert engine.run_due() == 1
    assert [m.to for m in voice.outbox] == [PHONE] and code_of(voice.last) == code
    assert engine.run_due() == 0, "a step fires once"
    after = engine.challenge(challenge.id, subject="alice")
    assert after.next_event == stepup.NextEvent("voice", clock() + 180)
    clock.advance(179)
    assert engine.run_due() == 0
    clock.advance(1)
    assert engine.run_due() == 1 and len(voice.outbox) == 2 and code_of(voice.last) == code
    assert engine.challenge(challenge.id, subject="alice").next_event is None
    clock.advance(299)
    assert engine.run_due() == 0 and len(voice.outbox) == 2 and len(sms.outbox) == 1
    assert engine.verify(challenge.id, code, subject="alice").method == "sms"


def test_the_code_lasts_the_whole_workflow(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make(code_ttl=60)
    challenge = engine.start("alice", "sms", "login")
    assert challenge.expires_at == clock() + 120 + 180 + 60
    clock.advance(299)
    engine.run_due()
    assert len(voice.outbox) == 1
    assert engine.verify(challenge.id, code_of(sms.last), subject="alice").challenge_id == challenge.id


@pytest.mark.parametrize("end", ["verify", "cancel"])
def test_an_ended_challenge_fires_nothing_more(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender, end: str
) -> None:
    engine = make()
    challenge = engine.start("alice", "sms", "login")
    if end == "verify":
        engine.verify(challenge.id, code_of(sms.last), subject="alice")
    else:
        engine.cancel(challenge.id, subject="alice")
    assert engine.challenge(challenge.id, subject="alice").next_event is None
    clock.advance(400)
    assert engine.run_due() == 0 and voice.outbox == []
    with pytest.raises(stepup.ChallengeError):
        engine.next_step(challenge.id, subject="alice", early=True)
    assert voice.outbox == []


def test_an_expired_challenge_fires_nothing(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, voice: MemorySender
) -> None:
    engine = make(workflow="sms:120,voice", challenge_lifetime=150)
    engine.start("alice", "sms", "login")
    clock.advance(151)
    assert engine.run_due() == 0 and voice.outbox == []


def test_the_send_cap_holds_across_steps(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make(max_sends=2, resend_cooldown=0)
    challenge = engine.start("alice", "sms", "login")
    resent = engine.resend(challenge.id, subject="alice")
    assert code_of(sms.last) == code_of(sms.outbox[0]), "a resend in a workflow sends the same code"
    assert resent.sends_left == 0 and resent.next_event is None
    with pytest.raises(stepup.NoSendsLeft):
        engine.next_step(challenge.id, subject="alice", early=True)
    clock.advance(120)
    assert engine.run_due() == 0 and voice.outbox == []


def test_a_resend_keeps_the_code_good_until_the_later_steps(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make(workflow="sms:400,voice", code_ttl=300, resend_cooldown=0)
    challenge = engine.start("alice", "sms", "login")
    assert challenge.expires_at == clock() + 700
    clock.advance(10)
    assert engine.resend(challenge.id, subject="alice").expires_at == challenge.expires_at
    clock.advance(390)
    assert engine.run_due() == 1 and code_of(voice.last) == code_of(sms.last)


def test_next_step_on_request(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make()
    challenge = engine.start("alice", "sms", "login")
    clock.advance(75)
    with pytest.raises(stepup.StepNotDue) as caught:
        engine.next_step(challenge.id, subject="alice")
    assert caught.value.retry_after == 45 and caught.value.channel == "voice"
    assert isinstance(caught.value, stepup.RateLimited) and voice.outbox == []
    with pytest.raises(stepup.ChallengeForbidden):
        engine.next_step(challenge.id, subject="mallory", early=True)
    clock.advance(45)
    fired = engine.next_step(challenge.id, subject="alice")
    assert code_of(voice.last) == code_of(sms.last)
    assert fired.next_event == stepup.NextEvent("voice", clock() + 180)
    assert engine.run_due() == 0, "the worker finds nothing left to fire for that step"
    engine.next_step(challenge.id, subject="alice", early=True)
    with pytest.raises(stepup.NoStepLeft):
        engine.next_step(challenge.id, subject="alice", early=True)
    assert len(voice.outbox) == 2


def test_a_challenge_without_a_workflow_has_no_next_step(
    engine_factory: Callable[..., stepup.Engine], sms: MemorySender
) -> None:
    engine = engine_factory()
    engine.import_binding("alice", "sms", PHONE)
    challenge = engine.start("alice", "sms", "login")
    assert challenge.next_event is None
    with pytest.raises(stepup.NoStepLeft):
        engine.next_step(challenge.id, subject="alice", early=True)
    assert engine.run_due() == 0


def test_each_step_is_charged_to_its_target(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, voice: MemorySender
) -> None:
    engine = make(limit_bound_sends_per_target="2/hour")
    challenge = engine.start("alice", "sms", "login")
    clock.advance(120)
    assert engine.run_due() == 1
    with pytest.raises(stepup.RateLimited) as caught:
        engine.next_step(challenge.id, subject="alice", early=True)
    assert caught.value.limit == "bound_sends_per_target" and len(voice.outbox) == 1
    clock.advance(180)
    assert engine.run_due() == 0, "the worker passes a step whose target has had enough"
    assert engine.challenge(challenge.id, subject="alice").next_event is None


def test_an_email_step_goes_to_the_bound_address(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender
) -> None:
    engine = make(workflow="sms:60,email")
    bob = engine.start("alice", "sms", "login")
    engine.import_binding("carol", "sms", "+447400123457")
    carol = engine.start("carol", "sms", "login")
    engine.import_binding("alice", "email", "alice@example.com")
    clock.advance(60)
    assert engine.run_due() == 1, "carol has no address: her step passes"
    assert [m.to for m in email.outbox] == ["alice@example.com"]
    assert code_of(email.last) == code_of(sms.outbox[0])
    assert engine.challenge(carol.id, subject="carol").sends_left == 2
    assert engine.verify(bob.id, code_of(email.last), subject="alice")


def test_the_store_never_holds_the_code(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender
) -> None:
    engine = make()
    challenge = engine.start("alice", "sms", "login")
    stored = json.dumps(engine.store.get("challenge", challenge.id))
    assert code_of(sms.last) not in stored
    assert challenge.seed is None, "the seed stays inside stepup"
    # Another app key cannot make the code from what the store holds.
    other = stepup.Engine(secret_key="t" * 40, store=engine.store, sms=MemorySender(), clock=clock,
                          senders={"voice": MemorySender()}, workflow="sms:120,voice")  # fmt: skip
    clock.advance(120)
    assert other.run_due() == 1
    assert code_of(other.senders["voice"].last) != code_of(sms.last)  # type: ignore[attr-defined]


def test_a_rotated_key_keeps_the_code(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender
) -> None:
    engine = make()
    engine.start("alice", "sms", "login")
    voice = MemorySender()
    rotated = stepup.Engine(secret_key=[SECRET, "n" * 40], store=engine.store, sms=MemorySender(), clock=clock,
                            senders={"voice": voice}, workflow="sms:120,voice:180,voice")  # fmt: skip
    clock.advance(120)
    assert rotated.run_due() == 1 and code_of(voice.last) == code_of(sms.last)


def test_bind_and_contact_codes_run_a_workflow_only_when_named(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock
) -> None:
    engine = make()
    assert engine.begin_bind("bob", "sms", "+447400123458").challenge.next_event is None
    named = make(workflows_by_purpose={"bind": "sms:60,voice"})
    started = named.begin_bind("bob", "sms", "+447400123459").challenge
    assert started.next_event == stepup.NextEvent("voice", clock() + 60)


def test_the_workflow_of_an_app_wins(make: Callable[..., stepup.Engine], clock: stepup.FrozenClock) -> None:
    engine = make(workflows_by_app={"admin": "sms:30,voice"}, workflows_by_purpose={"login": "sms:90,voice"})
    assert engine.start("alice", "sms", "login", app="admin").next_event == stepup.NextEvent("voice", clock() + 30)
    assert engine.start("alice", "sms", "login").next_event == stepup.NextEvent("voice", clock() + 90)
    assert engine.start("alice", "sms", "step_up").next_event == stepup.NextEvent("voice", clock() + 120)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"workflow": "sms:120,fax"}, "unknown channel 'fax'"),
        ({"workflow": "sms,voice"}, "needs the seconds to wait"),
        ({"workflow": "sms:0,voice"}, "needs the seconds to wait"),
        ({"workflow": "sms:60,voice:60"}, "the last step"),
        ({"workflow": "sms:500,voice:500,voice"}, "challenge_lifetime"),
        ({"workflows_by_purpose": {"signup": "sms:60,voice"}}, "not a purpose"),
        ({"workflow": ",".join(["sms:1"] * 6)}, "at most 5"),
    ],
)
def test_a_workflow_that_could_never_run_is_refused(options: dict[str, Any], words: str) -> None:
    with pytest.raises(stepup.ConfigurationError, match=re.escape(words)):
        stepup.Settings(secret_key=SECRET, **options)


def test_a_workflow_channel_without_a_sender_is_refused() -> None:
    with pytest.raises(stepup.ConfigurationError, match="'voice', which has no sender"):
        stepup.Engine(secret_key=SECRET, store_url="memory://", workflow="sms:60,voice")


def test_a_workflow_from_the_environment() -> None:
    settings = stepup.Settings.from_mapping({
        "STEPUP_SECRET_KEY": SECRET, "STEPUP_WORKFLOW": "sms:120,voice:180,voice",
        "STEPUP_WORKFLOWS_BY_PURPOSE": '{"contact": "sms:60,email"}',
    })  # fmt: skip
    assert stepup.parse_workflow(settings.workflow) == (
        stepup.WorkflowStep("sms", 120), stepup.WorkflowStep("voice", 180), stepup.WorkflowStep("voice"),
    )  # fmt: skip
    assert settings.workflows_by_purpose == {"contact": "sms:60,email"}


def test_the_async_twin(clock: stepup.FrozenClock) -> None:
    sms, voice = MemorySender(), MemorySender()
    engine = stepup.AsyncEngine(secret_key=SECRET, store_url="memory://", sms=sms, clock=clock,
                                senders={"voice": voice}, workflow="sms:120,voice")  # fmt: skip

    async def scenario() -> None:
        await engine.import_binding("alice", "sms", PHONE)
        challenge = await engine.start("alice", "sms", "login")
        with pytest.raises(stepup.StepNotDue):
            await engine.next_step(challenge.id, subject="alice")
        clock.advance(120)
        assert await engine.run_due() == 1
        assert code_of(voice.last) == code_of(sms.last)
        await engine.close()

    asyncio.run(scenario())


def test_a_challenge_whose_first_send_failed_fires_nothing_and_leaves_nothing(
    make: Callable[..., stepup.Engine], clock: stepup.FrozenClock, sms: MemorySender, voice: MemorySender
) -> None:
    engine = make()
    sms.fail_with = stepup.DeliveryError("down", "sms")
    with pytest.raises(stepup.DeliveryError):
        engine.start("alice", "sms", "login")
    clock.advance(120)
    assert engine.run_due() == 0 and voice.outbox == []
    assert all(engine.store.get("due", f"{i:02d}") is None for i in range(16)), "its entry is dropped"
