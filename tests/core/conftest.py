"""A small kit for the core tests: engines on a frozen clock with in-memory senders.

The fixture is called ``stepup_kit`` so it never shadows a fixture of ``tests/conftest.py``;
test modules reach everything through it (two ``conftest`` modules cannot both be imported).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender

SECRET = "s" * 40
PHONE = "+44 7400 123456"
E164 = "+447400123456"
_CODE = re.compile(r"(?<!\d)\d{4,10}(?!\d)")


class Kit:
    """Engines sharing one frozen clock, two memory outboxes and one audit list."""

    def __init__(self) -> None:
        self.clock = stepup.FrozenClock()
        self.sms = MemorySender()
        self.email = MemorySender()
        self.events: list[stepup.AuditEvent] = []
        self._engines: list[stepup.Engine] = []

    def engine(self, **overrides: Any) -> stepup.Engine:
        """An engine on ``memory://``; keyword arguments override settings."""
        options: dict[str, Any] = {"secret_key": SECRET, "store_url": "memory://", **overrides}
        engine = stepup.Engine(
            sms=self.sms, email=self.email, clock=self.clock, audit_hooks=[self.events.append], **options
        )
        self._engines.append(engine)
        return engine

    @staticmethod
    def code_in(body: str) -> str:
        """The one code a message body carries."""
        codes = _CODE.findall(body)
        assert len(codes) == 1, body
        return codes[0]

    def sms_code(self) -> str:
        """The code of the newest SMS."""
        return self.code_in(self.sms.last.body)

    def email_code(self) -> str:
        """The code of the newest email."""
        return self.code_in(self.email.last.body)

    def bind_phone(self, engine: stepup.Engine, subject: str, phone: str = PHONE) -> stepup.Binding:
        """Bind a phone the way a user does: begin, then the code from the SMS."""
        start = engine.begin_bind(subject, "sms", phone)
        binding = engine.verify(start.challenge.id, self.sms_code(), subject=subject).binding
        assert binding is not None
        return binding

    def bind_email(self, engine: stepup.Engine, subject: str, address: str) -> stepup.Binding:
        """Bind an email address the way a user does."""
        start = engine.begin_bind(subject, "email", address)
        binding = engine.verify(start.challenge.id, self.email_code(), subject=subject).binding
        assert binding is not None
        return binding

    def types(self) -> list[str]:
        """The audit event types so far."""
        return [e.type for e in self.events]

    def close(self) -> None:
        for engine in self._engines:
            engine.close()


@pytest.fixture
def stepup_kit() -> Iterator[Kit]:
    kit = Kit()
    yield kit
    kit.close()
