"""Servers on loopback for the sender tests: an SMTP server (aiosmtpd) here, and the fake
Twilio and Vonage APIs of :mod:`tests.support.providers` (fixtures ``twilio``, ``vonage``,
``provider_urls``, loaded for the whole suite).

Test modules reach everything through fixtures (conftest modules are not imported by name).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SMTP --------------------------------------------------------------------------------------


@dataclass
class Received:
    """One email as the SMTP server took it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        self._server.received.append(
            Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, bool(session.authenticated))  # type: ignore[arg-type]
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """``make(login=("user", "password"))`` starts an SMTP server on loopback that takes
    that login only (or no login when ``login`` is ``None``); stopped at teardown."""
    controllers: list[Controller] = []

    def make(login: tuple[str, str] | None = None) -> SmtpServer:
        server = SmtpServer("127.0.0.1", _free_port())

        def authenticate(smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and login is not None and (data.login, data.password) == (
                login[0].encode(), login[1].encode()
            )
            return AuthResult(success=ok, handled=False)

        options: dict[str, Any] = {"authenticator": authenticate, "auth_require_tls": False} if login else {}
        controller = Controller(_Handler(server), hostname=server.host, port=server.port, **options)
        controller.start()
        controllers.append(controller)
        return server

    yield make
    for controller in controllers:
        controller.stop()


