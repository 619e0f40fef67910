"""``StoreWindowStorage``: the ``limits`` moving window kept in a stepup store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from stepup import FrozenClock
from stepup._ratelimit import StoreWindowStorage
from stepup.stores import MemoryStore, SQLiteStore, Store

THREE_A_MINUTE = parse("3/minute")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock) -> Iterator[Store]:
    store: Store = MemoryStore(clock) if request.param == "memory" else SQLiteStore(tmp_path / "db", clock)
    yield store
    store.close()


@pytest.fixture
def limiter(store: Store, clock: FrozenClock) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(StoreWindowStorage(store, clock))


def test_hits_are_taken_up_to_the_limit_then_refused(limiter: MovingWindowRateLimiter) -> None:
    assert [limiter.hit(THREE_A_MINUTE, "sends", "+447400123456") for _ in range(4)] == [True, True, True, False]
    assert limiter.get_window_stats(THREE_A_MINUTE, "sends", "+447400123456").remaining == 0
    # another identifier has its own window
    assert limiter.hit(THREE_A_MINUTE, "sends", "+447400999999")


def test_the_window_moves(limiter: MovingWindowRateLimiter, clock: FrozenClock) -> None:
    limiter.hit(THREE_A_MINUTE, "k")
    clock.advance(30)
    limiter.hit(THREE_A_MINUTE, "k")
    limiter.hit(THREE_A_MINUTE, "k")
    assert not limiter.hit(THREE_A_MINUTE, "k")
    stats = limiter.get_window_stats(THREE_A_MINUTE, "k")
    assert stats.reset_time == clock() - 30 + 60  # when the oldest hit leaves the window
    clock.advance(29.5)
    assert not limiter.hit(THREE_A_MINUTE, "k")
    clock.advance(0.5)
    assert limiter.hit(THREE_A_MINUTE, "k")  # the first hit left: one slot free
    assert not limiter.hit(THREE_A_MINUTE, "k")
    clock.advance(60)
    assert limiter.get_window_stats(THREE_A_MINUTE, "k").remaining == 3


def test_clear_frees_the_window(limiter: MovingWindowRateLimiter) -> None:
    for _ in range(3):
        limiter.hit(THREE_A_MINUTE, "k")
    limiter.clear(THREE_A_MINUTE, "k")
    assert limiter.hit(THREE_A_MINUTE, "k")


def test_two_sqlite_stores_on_one_file_share_the_limit(tmp_path: Path, clock: FrozenClock) -> None:
    a, b = SQLiteStore(tmp_path / "db", clock), SQLiteStore(tmp_path / "db", clock)
    try:
        one = MovingWindowRateLimiter(StoreWindowStorage(a, clock))
        two = MovingWindowRateLimiter(StoreWindowStorage(b, clock))
        assert one.hit(THREE_A_MINUTE, "alice")
        assert two.hit(THREE_A_MINUTE, "alice")
        assert one.hit(THREE_A_MINUTE, "alice")
        assert not two.hit(THREE_A_MINUTE, "alice")
        assert two.get_window_stats(THREE_A_MINUTE, "alice").remaining == 0
        clock.advance(60)
        assert two.hit(THREE_A_MINUTE, "alice")
    finally:
        a.close()
        b.close()


A_THOUSAND_A_DAY = parse("1000/day")


def test_a_large_limit_keeps_a_small_record(limiter: MovingWindowRateLimiter, store: Store, clock: FrozenClock) -> None:
    # A per-country SMS limit sees every SMS: its record must not grow with them.
    for _ in range(1000):
        assert limiter.hit(A_THOUSAND_A_DAY, "sms_per_country", "GB")
        clock.advance(60)
    assert not limiter.hit(A_THOUSAND_A_DAY, "sms_per_country", "GB")
    (record,) = [store.get("ratelimit", key) for key in _keys(store)]
    assert record is not None and len(record["b"]) <= 61
    assert limiter.get_window_stats(A_THOUSAND_A_DAY, "sms_per_country", "GB").remaining == 0


def test_a_large_limit_frees_up_as_the_window_moves_never_early(
    limiter: MovingWindowRateLimiter, clock: FrozenClock
) -> None:
    for _ in range(1000):
        assert limiter.hit(A_THOUSAND_A_DAY, "k")
    clock.advance(86400 - 1)
    assert not limiter.hit(A_THOUSAND_A_DAY, "k")  # the hits are a day old less a second
    clock.advance(86400 / 60 + 1)  # a bucket counts while any of it is in the window
    assert limiter.hit(A_THOUSAND_A_DAY, "k")


def _keys(store: Store) -> list[str]:
    if isinstance(store, MemoryStore):
        return [key for kind, key in store._data if kind == "ratelimit"]
    conn = store._conn()  # type: ignore[attr-defined]
    return [row[0] for row in conn.execute("SELECT key FROM stepup_records WHERE kind = 'ratelimit'")]
