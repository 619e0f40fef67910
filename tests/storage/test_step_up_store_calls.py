"""What a step-up costs ``memory://`` and ``sqlite:///`` in store calls (each on SQLite a
transaction, and on the async engine a hop to a worker thread): an SMS start and its
verify are one call each, however many step-ups the session passed before (the Redis
store's round trips: ``test_redis_round_trips.py``)."""

from __future__ import annotations

import asyncio
import inspect
import threading
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
    """A store that notes the name of each call made on it, then makes it (a write the
    async engine makes at once on the loop, ``write_now(method, ...)``, as ``method``)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.store, name)
        if name == "write_now":

            def now(method: str, *args: Any) -> Any:
                self.calls.append(method)
                return found(method, *args)

            return now
        if name not in _CALLS:
            return found

        def call(*args: Any) -> Any:
            self.calls.append(name)
            return found(*args)

        return call


@pytest.fixture(params=["memory://", "sqlite:///"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return request.param + (str(tmp_path / "stepup.sqlite3") if request.param.startswith("sqlite") else "")


async def _step_ups(engine: stepup.Engine | stepup.AsyncEngine, store: _Counting, sms: MemorySender) -> list[Any]:
    """The store calls of each of five SMS step-ups in one session, start and verify apart."""
    per_step_up: list[tuple[list[str], list[str]]] = []
    clock: Any = engine.clock
    for _ in range(5):  # the subject's limit: 5 challenges in 15 minutes
        store.calls.clear()
        challenge = await _done(engine.start("alice", "sms", session=NONCE))
        started = list(store.calls)
        store.calls.clear()
        await _done(engine.verify(challenge.id, code_from(sms.last), subject="alice", session=NONCE))
        per_step_up.append((started, list(store.calls)))
        clock.advance(1)
    return per_step_up


async def _done(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


@pytest.mark.parametrize("twin", [stepup.Engine, stepup.AsyncEngine])
def test_a_start_and_its_verify_are_one_store_call_each_however_many_passed_before(
    store_url: str, twin: type[stepup.Engine] | type[stepup.AsyncEngine]
) -> None:
    # Each step reads and writes in one call (update_after: one lock, one transaction); a
    # pass takes itself out of the subject's index of open challenges in the step that
    # approves it, so the next pass in the session finds nothing of it to cancel or take out.
    clock = stepup.FrozenClock(1_800_000_000.0)
    store = _Counting(store_from_url(store_url, clock))
    sms = MemorySender()
    engine = twin(secret_key="k" * 40, store=store, sms=sms, email=MemorySender(), clock=clock, audit_retention_days=0)

    async def step_ups() -> list[Any]:
        await _done(engine.import_binding("alice", "sms", "+44 7400 123456"))
        try:
            return await _step_ups(engine, store, sms)
        finally:
            await _done(engine.close())

    assert asyncio.run(step_ups()) == [(["update_after"], ["update_after"])] * 5


def _count_on(records: list[Any]) -> tuple[list[Any], Any]:
    """An ``after`` that writes the count it read, plus one, whatever the write finds."""
    seen = (records[0] or {}).get("n", 0)
    return [("counter", "c", None)], lambda _: ([{"n": seen + 1}], seen)


def test_the_records_read_and_those_written_are_one_atomic_step(store_url: str) -> None:
    # Threads racing to write what they read lose no count: the read is inside the step.
    store = store_from_url(store_url, stepup.FrozenClock(1_800_000_000.0))

    def count() -> None:
        for _ in range(50):
            store.update_after([("counter", "c")], _count_on)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("counter", "c") == {"n": 200}
    store.close()


def test_a_step_refused_on_what_it_read_writes_nothing(store_url: str) -> None:
    store = store_from_url(store_url, stepup.FrozenClock(1_800_000_000.0))

    def refuse(records: list[Any]) -> tuple[list[Any], Any]:
        raise stepup.ChallengeNotFound("No such verification.")

    with pytest.raises(stepup.ChallengeNotFound):
        store.update_after([("counter", "c")], refuse)
    assert store.update_after([("counter", "c")], _count_on) == 0
    assert store.get("counter", "c") == {"n": 1}
    store.close()
