"""A sender that raises anything at all is a failed delivery: a DeliveryError (503) with a
clear message, the next route tried, no challenge left behind, nothing of the message or
its code in the logs, and limits charged by one rule: the destination's send limits stay
charged (SMS pumping through failing sends stays bounded), the subject's challenge limit
is given back (an outage of one channel never keeps a user from their other methods).

Real senders fed what they cannot carry: the file sender a lone surrogate, the SMTP sender
a line break in a header (an aiosmtpd server on loopback)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import stepup
from stepup import DeliveryError, RateLimited
from stepup.senders import AsyncSenderAdapter, FileSender, SMTPSender

PHONE = "+447700900001"
SETTINGS: dict[str, Any] = {"test_number_prefixes": ("+447700900",)}


class Exploding:
    """A sender with a bug: it raises an error of its own, quoting the message."""

    def __init__(self, error: type[Exception] = RuntimeError) -> None:
        self.error = error
        self.tried: list[stepup.Message] = []

    def send(self, message: stepup.Message) -> None:
        self.tried.append(message)
        raise self.error(f"cannot send {message.body!r} to {message.to}")


def challenges(engine: stepup.Engine | stepup.AsyncEngine) -> list[Any]:
    """The challenge records in an engine's memory store."""
    store = getattr(engine.store, "sync", engine.store)
    return [key for key in store._data if key[0] == "challenge"]


def alice(engine: stepup.Engine, *methods: str) -> None:
    for method in methods:
        target = {"sms": PHONE, "email": "alice@example.com"}.get(method)
        engine.import_binding("alice", method, target)


@pytest.mark.parametrize("error", [RuntimeError, KeyError, UnicodeEncodeError.__base__, AttributeError])
def test_any_exception_from_a_sender_is_a_failed_delivery_that_leaves_nothing(engine_factory, audit, caplog, error):
    sender = Exploding(error)
    engine = engine_factory(sms=sender, **SETTINGS)
    alice(engine, "sms")
    caplog.set_level(logging.DEBUG, logger="stepup")

    with pytest.raises(DeliveryError) as raised:
        engine.start("alice", "sms", "operation", operation="transfer of 50.00 to bob")

    assert raised.value.status == 503 and "could not be sent" in raised.value.message
    assert challenges(engine) == []
    failed = [e for e in audit if e.type == "delivery_failed"]
    assert len(failed) == 1 and failed[0].detail["reason"] == f"the sender failed ({error.__name__})"
    body = sender.tried[-1].body
    code = next(word for word in body.split() if word.isdigit())
    assert "transfer of 50.00" not in caplog.text and code not in caplog.text
    assert error.__name__ in caplog.text  # the log says what failed, for the operator


def test_the_next_route_is_tried_after_a_sender_raises(engine_factory, email, audit):
    engine = engine_factory(sms=Exploding(), fallback_to_email=True, **SETTINGS)
    alice(engine, "sms", "email")

    challenge = engine.start("alice", "sms", "login")

    assert challenge.method == "email" and email.last.to == "alice@example.com"
    assert [e.type for e in audit if e.type in ("delivery_failed", "sent")] == ["delivery_failed", "sent"]
    assert challenges(engine) == [("challenge", challenge.id)]


def test_the_async_engine_handles_a_sender_that_raises_the_same_way(clock, audit):
    async def main() -> None:
        engine = stepup.AsyncEngine(
            secret_key="s" * 40, store_url="memory://", clock=clock, audit_hooks=[audit.append],
            sms=AsyncSenderAdapter(Exploding(ValueError), offload=True), **SETTINGS,
        )  # fmt: skip
        await engine.import_binding("alice", "sms", PHONE)
        with pytest.raises(DeliveryError):
            await engine.start("alice", "sms", "step_up")
        assert challenges(engine) == []
        await engine.close()

    asyncio.run(main())


def test_a_resend_whose_sender_raises_keeps_the_old_code_and_gives_the_send_back(engine_factory, sms, clock, last_code):
    engine = engine_factory(**SETTINGS)
    alice(engine, "sms")
    challenge = engine.start("alice", "sms", "step_up")
    first = last_code(sms)
    clock.advance(30)
    engine.sms = engine.senders["sms"] = Exploding()

    with pytest.raises(DeliveryError):
        engine.resend(challenge.id, subject="alice")

    assert engine.challenge(challenge.id, subject="alice").sends_left == 2
    assert engine.verify(challenge.id, first, subject="alice").challenge_id == challenge.id


def test_failed_sends_charge_the_number_but_not_the_subject(engine_factory):
    # The rule of stepup._delivery: each failed send stays charged to where it was going,
    # so a number cannot be sent to without end by making its sends fail; the subject's
    # own challenge limit is given back, so their other methods keep working.
    engine = engine_factory(sms=Exploding(), **SETTINGS)
    alice(engine, "sms", "totp")
    for _ in range(5):
        with pytest.raises(DeliveryError):
            engine.start("alice", "sms", "login")

    with pytest.raises(RateLimited) as limited:
        engine.start("alice", "sms", "login")

    assert limited.value.limit == "bound_challenges_per_target"  # a login code goes to a bound number
    for _ in range(5):  # the subject's own limit (5/15 minutes) is untouched
        engine.cancel(engine.start("alice", "totp", "login").id, subject="alice")


# -- real senders fed what they cannot carry ------------------------------------------------------------


def test_the_file_sender_fed_a_lone_surrogate_fails_as_a_delivery(engine_factory, tmp_path, sms):
    outbox = FileSender(tmp_path / "outbox.jsonl")
    engine = engine_factory(sms=outbox, **SETTINGS)
    alice(engine, "sms")

    with pytest.raises(DeliveryError):
        engine.start("alice", "sms", "operation", operation="transfer of 5.00 to \ud800")

    assert challenges(engine) == []
    good = engine.start("alice", "sms", "operation", operation="transfer of 5.00 to bob")
    assert ["to bob" in m["body"] for m in outbox.messages()] == [True]  # the outbox reads whole
    assert challenges(engine) == [("challenge", good.id)]


class _Inbox:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(envelope.original_content or b"")
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_the_smtp_sender_fed_a_line_break_fails_as_a_delivery_and_sends_nothing(engine_factory, smtp, audit):
    port, inbox = smtp
    engine = engine_factory(email=SMTPSender("127.0.0.1", port, "bank@example.com"), **SETTINGS)
    alice(engine, "email")

    with pytest.raises(DeliveryError):
        engine.start("alice", "email", "operation", operation="transfer of 5.00 to bob\r\nBcc: eve@example.com")

    assert challenges(engine) == [] and inbox.received == []
    assert [e.detail["reason"] for e in audit if e.type == "delivery_failed"] == ["the sender failed (ValueError)"]
    engine.start("alice", "email", "operation", operation="transfer of 5.00 to bob")
    assert len(inbox.received) == 1 and b"eve@example.com" not in inbox.received[0]
