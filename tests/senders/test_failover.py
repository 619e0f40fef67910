"""Delivery failover: a second SMS provider, then the subject's email; nothing is charged
for a send that failed; the user is told where the code went; the audit log says what
happened. And routing by the destination's country."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

import stepup
from stepup.senders import AsyncSenderAdapter, MemorySender

SECRET = "s" * 40
PHONE = "+44 7400 123456"
#: what a send's audit event says of an SMS to PHONE: for operators' metrics.
TWILIO_GB = {
    "channel": "sms", "provider": "twilio", "locale": "en", "country": "GB", "encoding": "GSM-7", "segments": 1,
}  # fmt: skip
GATEWAY_DOWN = stepup.DeliveryError("The SMS could not be sent.", "sms", "gateway timeout")


def _code(body: str) -> str:
    return re.findall(r"\b\d{6}\b", body)[0]


class Bank:
    """An engine whose SMS provider can be made to fail, with its outboxes and audit log."""

    def __init__(self, **settings: Any) -> None:
        self.sms, self.email, self.events = MemorySender(), MemorySender(), []
        self.engine = stepup.Engine(
            secret_key=SECRET, store_url="memory://", app_name="Bank", sms=self.sms, email=self.email,
            audit_hooks=[self.events.append], **settings,
        )  # fmt: skip
        self.engine.import_binding("alice", "sms", PHONE)
        self.engine.import_binding("alice", "email", "alice@example.com")

    def trail(self) -> list[tuple[str, dict[str, Any]]]:
        """The delivery events so far: (type, detail)."""
        return [(e.type, e.detail) for e in self.events if e.type in {"sent", "delivery_failed"}]


@pytest.fixture
def bank() -> Iterator[Any]:
    made: list[Bank] = []

    def make(**settings: Any) -> Bank:
        made.append(Bank(**settings))
        return made[-1]

    yield make
    for b in made:
        b.engine.close()


# -- a second SMS provider ------------------------------------------------------------------


def test_a_failing_provider_hands_the_code_to_the_fallback_provider(
    twilio: Any, vonage: Any, provider_urls: dict[str, str]
) -> None:
    twilio.next = ["500", "500"]
    events: list[stepup.AuditEvent] = []
    engine = stepup.Engine(
        secret_key=SECRET, store_url="memory://", sms_url=provider_urls["twilio"],
        sms_fallback_url=provider_urls["vonage"], email=MemorySender(), audit_hooks=[events.append],
    )  # fmt: skip
    try:
        engine.import_binding("alice", "sms", PHONE)
        challenge = engine.start("alice", "sms")
        assert len(twilio.requests) == 2 and len(vonage.requests) == 1
        assert (challenge.method, challenge.notice) == ("sms", None)
        assert (challenge.attempts_left, challenge.sends_left) == (3, 2)
        trail = [(e.type, e.detail) for e in events if e.type in {"sent", "delivery_failed"}]
        assert trail == [
            ("delivery_failed", {"reason": "Twilio answered HTTP 500", "via": "sms", **TWILIO_GB}),
            ("sent", {**TWILIO_GB, "provider": "vonage", "fallback": "sms:fallback"}),
        ]
        approval = engine.verify(challenge.id, _code(vonage.requests[0].form["text"]), subject="alice")
        assert approval.method == "sms"
    finally:
        engine.close()


def test_the_async_engine_fails_over_to_the_second_provider(
    twilio: Any, vonage: Any, provider_urls: dict[str, str]
) -> None:
    twilio.next = [(400, {"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400})]

    async def main() -> Any:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store_url="memory://", sms_url=provider_urls["twilio"],
            sms_fallback_url=provider_urls["vonage"],
        )  # fmt: skip
        try:
            await engine.import_binding("alice", "sms", PHONE)
            challenge = await engine.start("alice", "sms")
            return await engine.verify(challenge.id, _code(vonage.requests[0].form["text"]), subject="alice")
        finally:
            await engine.close()

    assert asyncio.run(main()).purpose == "step_up"
    assert len(twilio.requests) == 1


def test_when_every_provider_fails_nothing_is_left_or_charged(bank: Any) -> None:
    b = bank(sms_fallback_url="memory://")
    b.sms.fail_with = GATEWAY_DOWN
    b.engine.senders["sms:fallback"].fail_with = stepup.DeliveryError("No.", "sms", "Vonage status 1: Throttled")
    with pytest.raises(stepup.DeliveryError) as caught:
        b.engine.start("alice", "sms")
    assert caught.value.reason == "gateway timeout; Vonage status 1: Throttled"
    assert "could not be sent" in caught.value.message
    issued = [e.challenge_id for e in b.events if e.type == "issued"]
    with pytest.raises(stepup.ChallengeNotFound):
        b.engine.challenge(issued[0], subject="alice")
    assert [t for t, _ in b.trail()] == ["delivery_failed", "delivery_failed"]


# -- SMS to email ---------------------------------------------------------------------------


def test_when_sms_fails_the_code_goes_to_the_bound_email_and_the_user_is_told(bank: Any) -> None:
    b = bank(fallback_to_email=True)
    b.sms.fail_with = GATEWAY_DOWN
    challenge = b.engine.start("alice", "sms", "login")
    assert (challenge.method, challenge.target, challenge.fallback_from) == ("email", "alice@example.com", "sms")
    assert challenge.notice == (
        "Your code could not be sent by text message, so it went by email to a•••@example.com instead."
    )
    assert (challenge.attempts_left, challenge.sends_left) == (3, 2)  # as for any first send
    assert (b.email.last.to, b.email.last.subject) == ("alice@example.com", "Your Bank sign-in code")
    assert b.trail() == [
        ("delivery_failed", {"reason": "gateway timeout", "via": "sms", **TWILIO_GB, "provider": "memory"}),
        ("sent", {"channel": "email", "provider": "memory", "locale": "en", "fallback": "email"}),
    ]
    assert b.engine.challenge(challenge.id, subject="alice").notice == challenge.notice
    approval = b.engine.verify(challenge.id, _code(b.email.last.body), subject="alice")
    assert approval.method == "email"  # the grant records what the user proved


def test_a_resend_whose_sms_fails_goes_by_email_and_charges_no_attempt(bank: Any) -> None:
    clock = stepup.FrozenClock()
    b = bank(fallback_to_email=True, clock=clock)
    challenge = b.engine.start("alice", "sms", "operation", operation="transfer of 50.00 to Bob")
    with pytest.raises(stepup.WrongCode):
        b.engine.verify(challenge.id, "000000", subject="alice")
    clock.advance(30)
    b.sms.fail_with = GATEWAY_DOWN
    resent = b.engine.resend(challenge.id, subject="alice")
    assert (resent.method, resent.attempts_left, resent.sends_left) == ("email", 2, 1)
    assert b.email.last.subject == "Approve: transfer of 50.00 to Bob"
    assert b.engine.verify(challenge.id, _code(b.email.last.body), subject="alice").method == "email"


def test_a_resend_that_fails_every_way_is_given_back_whole(bank: Any) -> None:
    clock = stepup.FrozenClock()
    b = bank(fallback_to_email=True, clock=clock)
    challenge = b.engine.start("alice", "sms")
    first = _code(b.sms.last.body)
    clock.advance(30)
    b.sms.fail_with = GATEWAY_DOWN
    b.email.fail_with = stepup.DeliveryError("The email could not be sent.", "email", "the server answered 451")
    with pytest.raises(stepup.DeliveryError):
        b.engine.resend(challenge.id, subject="alice")
    after = b.engine.challenge(challenge.id, subject="alice")
    assert (after.method, after.notice, after.attempts_left, after.sends_left) == ("sms", None, 3, 2)
    assert b.engine.verify(challenge.id, first, subject="alice").method == "sms"  # the old code still works


@pytest.mark.parametrize("how", ["setting off", "email off here", "binding a phone"])
def test_no_email_fallback_where_it_is_not_allowed(bank: Any, how: str) -> None:
    b = bank(fallback_to_email=how != "setting off")
    if how == "email off here":
        b.engine.set_method("email", False, "app", "payments")
    b.sms.fail_with = GATEWAY_DOWN
    with pytest.raises(stepup.DeliveryError):
        if how == "binding a phone":
            b.engine.begin_bind("alice", "sms", "+44 7400 654321")  # the point is to prove the new phone
        else:
            b.engine.start("alice", "sms", app="payments")
    assert b.email.outbox == []


def test_the_async_engine_falls_back_to_email() -> None:
    sms, email = MemorySender(), MemorySender()
    sms.fail_with = GATEWAY_DOWN

    async def main() -> Any:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store_url="memory://", fallback_to_email=True,
            sms=AsyncSenderAdapter(sms, offload=False), email=AsyncSenderAdapter(email, offload=False),
        )  # fmt: skip
        try:
            await engine.import_binding("alice", "sms", PHONE)
            await engine.import_binding("alice", "email", "alice@example.com")
            challenge = await engine.start("alice", "sms")
            return challenge, await engine.verify(challenge.id, _code(email.last.body), subject="alice")
        finally:
            await engine.close()

    challenge, approval = asyncio.run(main())
    assert (challenge.method, challenge.fallback_from, approval.method) == ("email", "sms", "email")


# -- routing by country -----------------------------------------------------------------------


def test_sms_go_to_the_provider_chosen_for_their_country(twilio: Any, provider_urls: dict[str, str]) -> None:
    sms = MemorySender()
    engine = stepup.Engine(
        secret_key=SECRET, store_url="memory://", sms=sms, email=MemorySender(),
        sms_routes={"US": provider_urls["twilio"]}, test_number_prefixes=("+1202555",),
    )  # fmt: skip
    try:
        engine.begin_bind("alice", "sms", "+1 202 555 0143")
        engine.begin_bind("bob", "sms", PHONE)
        assert [r.form["To"] for r in twilio.requests] == ["+12025550143"]
        assert [m.to for m in sms.outbox] == ["+447400123456"]
    finally:
        engine.close()


@pytest.mark.parametrize("routes", [{"usa": "memory://"}, {"US": ""}])
def test_routes_name_iso_regions_and_urls(routes: dict[str, str]) -> None:
    with pytest.raises(stepup.ConfigurationError, match="sms_routes"):
        stepup.Settings(secret_key=SECRET, sms_routes=routes)


def test_the_settings_read_from_the_environment() -> None:
    settings = stepup.Settings.from_mapping({
        "STEPUP_SMS_ROUTES": '{"US": "twilio://AC1:tok@?from=+15005550006"}',
        "STEPUP_SMS_FALLBACK_URL": "vonage://key:secret@?from=Bank",
        "STEPUP_FALLBACK_TO_EMAIL": "true",
    })  # fmt: skip
    assert settings.sms_routes == {"US": "twilio://AC1:tok@?from=+15005550006"}
    assert settings.sms_fallback_url.startswith("vonage://") and settings.fallback_to_email is True
