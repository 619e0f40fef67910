"""What a step-up costs ``memory://`` and ``sqlite:///`` in store calls (each on SQLite a
transaction, and on the async engine a hop to a worker thread): an SMS start and its
verify are a read and one atomic write each, however many step-ups the session passed
before (the Redis store's round trips: ``test_redis_round_trips.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.senders import MemorySender
from stepup.stores import store_from_url
from stepup.testing import code_from

NONCE = "a-login-nonce-of-some-length"
_CALLS = ("get", "get_many", "update", "update_many", "update_after", "delete")


class _Counting:
    """A store that notes the name of each call made on it, then makes it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.store, name)
        if name not in _CALLS:
            return found

        def call(*args: Any) -> Any:
            self.calls.append(name)
            return found(*args)

        return call


@pytest.fixture(params=["memory://", "sqlite:///"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return request.param + (str(tmp_path / "stepup.sqlite3") if request.param.startswith("sqlite") else "")


def test_step_ups_one_after_another_in_a_session_cost_the_same_store_calls_each(store_url: str) -> None:
    # A pass takes itself out of the subject's index of open challenges in the step that
    # approves it: the next pass in the session finds nothing of it to cancel or take out.
    clock = stepup.FrozenClock(1_800_000_000.0)
    store = _Counting(store_from_url(store_url, clock))
    sms = MemorySender()
    engine = stepup.Engine(
        secret_key="k" * 40, store=store, sms=sms, email=MemorySender(), clock=clock, audit_retention_days=0
    )
    engine.import_binding("alice", "sms", "+44 7400 123456")
    per_step_up: list[tuple[list[str], list[str]]] = []
    for _ in range(5):  # the subject's limit: 5 challenges in 15 minutes
        store.calls.clear()
        challenge = engine.start("alice", "sms", session=NONCE)
        started = list(store.calls)
        store.calls.clear()
        engine.verify(challenge.id, code_from(sms.last), subject="alice", session=NONCE)
        per_step_up.append((started, list(store.calls)))
        clock.advance(1)
    assert per_step_up == [(["get_many", "update_many"], ["get_many", "update_many"])] * 5
    engine.close()
