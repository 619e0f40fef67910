"""Fixtures shared by the whole suite: a frozen clock, in-memory senders, an audit log and
an engine factory. Keep these small; put fixtures for one area in that area's folder."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import stepup
from stepup.senders import MemorySender

#: the bank and lab sites on each adapter, fake SMS providers and restartable Redis servers.
pytest_plugins = [
    "tests.support.fixtures", "tests.support.providers", "tests.support.voice_providers", "tests.support.redis_servers",
]  # fmt: skip

# Fuzzing (tests/security/test_fuzzing.py): the same examples on every run, no example
# database, no deadline (a request's time varies with the machine), and the function-scoped
# site fixture is shared by a test's examples on purpose: its state carries over, so each
# example also checks what the ones before it left behind.
settings.register_profile(
    "stepup",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("stepup")

#: the secret key every test engine uses (long enough for the keyring).
SECRET_KEY = "s" * 40

_CODE = re.compile(r"(?<!\d)(\d{4,10})(?!\d)")


def last_code(sender: MemorySender) -> str:
    """The code in the newest message ``sender`` delivered (its first run of 4 to 10 digits)."""
    match = _CODE.search(sender.last.body)
    if match is None:
        raise AssertionError(f"no code in {sender.last.body!r}")
    return match.group(1)


@pytest.fixture(name="last_code")
def last_code_fixture() -> Callable[[MemorySender], str]:
    """:func:`last_code`, for tests (conftest modules are not imported by name)."""
    return last_code


@pytest.fixture
def clock() -> stepup.FrozenClock:
    """A clock that moves only with ``clock.advance(seconds)``."""
    return stepup.FrozenClock()


@pytest.fixture
def sms() -> MemorySender:
    """The SMS outbox."""
    return MemorySender()


@pytest.fixture
def email() -> MemorySender:
    """The email outbox."""
    return MemorySender()


@pytest.fixture
def audit() -> list[stepup.AuditEvent]:
    """Every audit event the engines of a test fired, oldest first."""
    return []


@pytest.fixture
def engine_factory(
    clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender, audit: list[stepup.AuditEvent]
) -> Iterator[Callable[..., stepup.Engine]]:
    """``make(**overrides)`` builds an in-memory :class:`stepup.Engine` wired to the fixtures
    above; keyword arguments override its defaults or set any :class:`stepup.Settings`
    field. Every engine made is closed at teardown."""
    made: list[stepup.Engine] = []

    def make(**overrides: Any) -> stepup.Engine:
        kwargs: dict[str, Any] = {
            "secret_key": SECRET_KEY,
            "store_url": "memory://",
            "sms": sms,
            "email": email,
            "clock": clock,
            "audit_hooks": [audit.append],
        }
        kwargs.update(overrides)
        engine = stepup.Engine(**kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()
