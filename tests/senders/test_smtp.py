"""``smtp://`` against a real SMTP server on loopback: the code arrives, for the right person,
with a subject that says what it is for, in a plain-text and an HTML part; a refused login
or a server that is down is a delivery error that gives nothing away."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender, async_sender_from_url, sender_from_url

SECRET = "s" * 40
FROM = "Bank <no-reply@bank.example>"


def _parts(received: Any) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in received.message.iter_parts()}


def _engine(email_url: str) -> stepup.Engine:
    return stepup.Engine(
        secret_key=SECRET, store_url="memory://", app_name="Bank", sms=MemorySender(), email_url=email_url
    )


def test_a_login_code_arrives_with_its_subject_and_both_parts(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server(login=("mailer", "p@ss word"))
    url = f"smtp://mailer:p%40ss%20word@{server.host}:{server.port}?from={FROM}"
    engine = _engine(url)
    try:
        engine.import_binding("alice", "email", "alice@example.com")
        challenge = engine.start("alice", "email", "login")
        [received] = server.received
        assert received.rcpt_tos == ["alice@example.com"] and received.authenticated
        assert received.message["To"] == "alice@example.com"
        assert received.message["From"] == FROM
        assert received.message["Subject"] == "Your Bank sign-in code"
        parts = _parts(received)
        assert set(parts) == {"text/plain", "text/html"}
        code = re.findall(r"\b\d{6}\b", parts["text/plain"])[0]
        assert f"<strong>{code}</strong>" in parts["text/html"]
        assert engine.verify(challenge.id, code, subject="alice").method == "email"
    finally:
        engine.close()


def test_an_operation_email_names_the_operation(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server()
    engine = _engine(f"smtp://{server.host}:{server.port}?from=no-reply@bank.example")
    try:
        engine.import_binding("alice", "email", "alice@example.com")
        engine.start("alice", "email", "operation", operation="transfer of 50.00 to Bob")
        [received] = server.received
        assert received.message["Subject"] == "Approve: transfer of 50.00 to Bob"
        assert "approves transfer of 50.00 to Bob" in _parts(received)["text/plain"]
        assert not received.authenticated  # no user in the URL: no login
    finally:
        engine.close()


def test_the_async_engine_sends_through_smtp_too(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server(login=("mailer", "secret"))
    url = f"smtp://mailer:secret@{server.host}:{server.port}?from=no-reply@bank.example"

    async def main() -> str:
        engine = stepup.AsyncEngine(secret_key=SECRET, store_url="memory://", sms_url="memory://", email_url=url)
        try:
            challenge_id: str = await engine.contact.request("email", "kim@example.com")
            return challenge_id
        finally:
            await engine.close()

    asyncio.run(main())
    assert server.received[0].rcpt_tos == ["kim@example.com"]


def test_a_refused_login_is_a_delivery_error_without_the_password(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server(login=("mailer", "right-password"))
    sender = sender_from_url(f"smtp://mailer:wrong-password@{server.host}:{server.port}?from=no-reply@bank.example")
    with pytest.raises(stepup.DeliveryError) as caught:
        sender.send(stepup.Message("email", "alice@example.com", "123456 is your code", "Your code"))
    error = caught.value
    assert error.channel == "email" and error.reason == "the server refused the login (535)"
    assert "wrong-password" not in f"{error.message} {error.reason} {sender!r}" and "123456" not in str(error.reason)
    assert server.received == []


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_server_that_is_down_is_a_delivery_error(how: str) -> None:
    from socket import socket

    with socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"smtp://mailer:hunter2@127.0.0.1:{port}?from=no-reply@bank.example&timeout=2"
    message = stepup.Message("email", "alice@example.com", "123456 is your code", "Your code")
    with pytest.raises(stepup.DeliveryError) as caught:
        if how == "sync":
            sender_from_url(url).send(message)
        else:
            asyncio.run(async_sender_from_url(url).send(message))
    assert caught.value.reason == f"cannot connect to 127.0.0.1:{port} (Connection refused)"
    assert "hunter2" not in caught.value.reason


def test_starttls_is_never_skipped_quietly(smtp_server: Callable[..., Any]) -> None:
    server = smtp_server()  # a plain server that offers no STARTTLS
    sender = sender_from_url(f"smtp://{server.host}:{server.port}?from=no-reply@bank.example&starttls=true")
    with pytest.raises(stepup.DeliveryError) as caught:
        sender.send(stepup.Message("email", "alice@example.com", "123456 is your code", "Your code"))
    assert caught.value.reason == f"{server.host}:{server.port} does not offer STARTTLS"
    assert server.received == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("smtp://mail.example.com", "from="),
        ("smtp://?from=a@b.example", "host"),
        ("smtps://mail.example.com?from=a@b.example&starttls=true", "TLS from the start"),
        ("smtp://mail.example.com?from=a@b.example&tls=yes", "does not take tls"),
        ("smtp://user@mail.example.com?from=a@b.example", "needs a password"),
    ],
)
def test_unusable_smtp_urls_are_refused_at_start_up(url: str, words: str) -> None:
    with pytest.raises(stepup.ConfigurationError, match=words):
        sender_from_url(url)


def test_smtps_defaults_to_port_465_with_tls_from_the_start() -> None:
    sender: Any = sender_from_url("smtps://mailer:pw@mail.example.com?from=a@b.example")
    assert (sender.port, sender.tls) == (465, "implicit")
    assert "pw" not in repr(sender)
