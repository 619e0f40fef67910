"""Rate limits kept as records in the store: moving windows, charged all or nothing in
the same step as the challenge they limit, shared by every process on the store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup import FrozenClock
from stepup._ratelimit import KIND, Limit, Limits
from stepup.stores import AsyncStoreAdapter, MemoryStore, SQLiteStore, Store

SECRET = "s" * 40


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock) -> Iterator[Store]:
    store: Store = MemoryStore(clock) if request.param == "memory" else SQLiteStore(tmp_path / "db", clock)
    yield store
    store.close()


def _charger(store: Store, clock: FrozenClock, **specs: str) -> Any:
    """``charge(*hits)``: charge ``hits`` through the store as the engine does; the error or ``None``."""
    limits = Limits({name: Limit(name, spec) for name, spec in specs.items()})

    def charge(*hits: tuple[str, str]) -> stepup.RateLimited | None:
        now = clock()
        return store.update_many(limits.items(hits), lambda records: limits.charge(hits, records, now))

    return charge


def test_hits_are_taken_up_to_the_limit_then_refused_until_the_window_moves(store: Store, clock: FrozenClock) -> None:
    charge = _charger(store, clock, sends="3/minute")
    assert [charge(("sends", "+447400123456")) for _ in range(3)] == [None, None, None]
    clock.advance(20)
    refused = charge(("sends", "+447400123456"))
    assert refused is not None and refused.limit == "sends" and refused.retry_after == 40
    assert "3 per minute" in refused.message and "Try again in 40 s" in refused.message
    assert charge(("sends", "+447400999999")) is None  # another number has its own window
    clock.advance(40)  # the three hits leave the window together
    assert [charge(("sends", "+447400123456")) is None for _ in range(4)] == [True, True, True, False]


def test_a_full_limit_charges_none_of_the_others(store: Store, clock: FrozenClock) -> None:
    charge = _charger(store, clock, per_subject="5/minute", per_number="1/minute")
    assert charge(("per_subject", "alice"), ("per_number", "+447400123456")) is None
    for _ in range(10):
        refused = charge(("per_subject", "alice"), ("per_number", "+447400123456"))
        assert refused is not None and refused.limit == "per_number"
    # alice's own limit was charged once, not eleven times: four more go through
    assert [charge(("per_subject", "alice")) is None for _ in range(5)] == [True, True, True, True, False]


def test_two_sqlite_stores_on_one_file_share_the_limit(tmp_path: Path, clock: FrozenClock) -> None:
    a, b = SQLiteStore(tmp_path / "db", clock), SQLiteStore(tmp_path / "db", clock)
    try:
        one, two = _charger(a, clock, k="3/minute"), _charger(b, clock, k="3/minute")
        assert [one(("k", "alice")), two(("k", "alice")), one(("k", "alice"))] == [None, None, None]
        assert two(("k", "alice")) is not None
        clock.advance(60)
        assert two(("k", "alice")) is None
    finally:
        a.close()
        b.close()


def test_a_large_limit_keeps_a_small_record(store: Store, clock: FrozenClock) -> None:
    # A per-country SMS limit sees every SMS: its record must not grow with them.
    charge = _charger(store, clock, sms_per_country="1000/day")
    for _ in range(1000):
        assert charge(("sms_per_country", "GB")) is None
        clock.advance(60)
    assert charge(("sms_per_country", "GB")) is not None
    record = store.get(KIND, "sms_per_country:GB")
    assert record is not None and len(record["b"]) <= 61


def test_a_large_limit_frees_up_as_the_window_moves_never_early(store: Store, clock: FrozenClock) -> None:
    charge = _charger(store, clock, k="1000/day")
    for _ in range(1000):
        assert charge(("k", "x")) is None
    clock.advance(86400 - 1)
    assert charge(("k", "x")) is not None  # the hits are a day old less a second
    clock.advance(86400 / 60 + 1)  # a bucket counts while any of it is in the window
    assert charge(("k", "x")) is None


def test_a_limit_that_cannot_be_parsed_is_a_configuration_error() -> None:
    with pytest.raises(stepup.ConfigurationError) as caught:
        stepup.Engine(secret_key=SECRET, store_url="memory://", limit_challenges_per_subject="lots")
    assert "limit_challenges_per_subject" in caught.value.message


class _OwnAsyncStore:
    """An async store of someone's own, with only get, update and delete."""

    def __init__(self) -> None:
        self._inner = AsyncStoreAdapter(MemoryStore(), offload=False)

    async def get(self, kind: str, key: str) -> Any:
        return await self._inner.get(kind, key)

    async def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return await self._inner.update(kind, key, fn, ttl)

    async def delete(self, kind: str, key: str) -> None:
        await self._inner.delete(kind, key)

    async def close(self) -> None:
        await self._inner.close()


def test_a_store_without_get_many_or_update_many_still_keeps_limits() -> None:
    async def main() -> str:
        engine = stepup.AsyncEngine(
            secret_key=SECRET, store=_OwnAsyncStore(), sms_url="memory://", email_url="memory://",
            limit_challenges_per_subject="2/minute",
        )  # fmt: skip
        try:
            await engine.import_binding("alice", "sms", "+44 7400 123456")
            await engine.start("alice", "sms")
            await engine.start("alice", "sms")
            with pytest.raises(stepup.RateLimited) as caught:
                await engine.start("alice", "sms")
            return caught.value.limit
        finally:
            await engine.close()

    assert asyncio.run(main()) == "challenges_per_subject"


def test_a_zero_limit_refuses_every_request_and_says_so(store: Store, clock: FrozenClock) -> None:
    charge = _charger(store, clock, sms="0/day")
    refused = charge(("sms", "44"))
    assert refused is not None and refused.message == "Not allowed here (0 per day)."
    assert refused.retry_after == 86400
    clock.advance(3 * 86400)
    assert charge(("sms", "44")) is not None


def test_a_zero_sms_limit_stops_sms_and_leaves_email_alone() -> None:
    engine = stepup.Engine(
        secret_key=SECRET, store_url="memory://", sms_url="memory://", email_url="memory://",
        limit_sms_per_country="0/day", limit_bound_sms_total="0/day",
    )  # fmt: skip
    try:
        engine.import_binding("alice", "sms", "+44 7400 123456")
        engine.import_binding("alice", "email", "alice@example.com")
        with pytest.raises(stepup.RateLimited) as caught:
            engine.start("alice", "sms")
        assert caught.value.limit == "bound_sms_total" and caught.value.message == "Not allowed here (0 per day)."
        with pytest.raises(stepup.RateLimited) as caught:
            engine.contact.request("sms", "+44 7400 654321")
        assert caught.value.limit == "sms_per_country" and caught.value.message == "Not allowed here (0 per day)."
        assert engine.start("alice", "email").method == "email"
    finally:
        engine.close()
