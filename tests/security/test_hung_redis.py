"""A hung Redis (it accepts connections and never answers) fails closed fast: each call
waits one timeout, short by default and set in the URL, then raises StoreUnavailable, and
protected routes answer 503. Not three timeouts: a timed-out command is not retried. The
hung server is a real loopback listener; the test is bounded by the 0.2 s timeout its URL
sets, and measures no time."""

from __future__ import annotations

import asyncio

import pytest

from stepup import StoreUnavailable
from stepup.stores._redis import AsyncRedisStore, RedisStore
from tests.support.flows import held, signed_in
from tests.support.hung import HungServer

JSON = {"Accept": "application/json"}
FAST = "socket_timeout=0.2&socket_connect_timeout=0.2"


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


def test_a_hung_redis_raises_store_unavailable_after_one_try(hung, clock):
    store = RedisStore(f"redis://{hung.address}/0?{FAST}", clock)
    try:
        with pytest.raises(StoreUnavailable) as raised:
            store.get("challenge", "x" * 22)
        with pytest.raises(StoreUnavailable):
            store.update("challenge", "x" * 22, lambda record: ({"n": 1}, None), 60)
    finally:
        store.close()
    # One connection per call: a retry of a timed-out command would wait the timeout again.
    assert hung.hung_connections == 2
    assert "password" not in raised.value.message


def test_a_hung_redis_raises_store_unavailable_after_one_try_async(hung, clock):
    async def main() -> None:
        store = AsyncRedisStore(f"redis://{hung.address}/0?{FAST}", clock)
        try:
            with pytest.raises(StoreUnavailable):
                await store.get("challenge", "x" * 22)
        finally:
            await store.close()

    asyncio.run(main())
    assert hung.hung_connections == 1


def test_a_redis_that_hangs_after_answering_fails_the_async_stores_commands_after_one_try(
    hung, redis_factory, clock
):
    """The asyncio store's own command path (after its first-use check), not the client's:
    a write and a reply that never come fail within the URL's timeout, and a hung
    connection is dropped, never used again."""
    server = redis_factory()
    proxy = HungServer(forward_to=server.port)

    async def main() -> list[str]:
        store = AsyncRedisStore(f"redis://{proxy.address}/0?{FAST}", clock)
        try:
            await store.update("challenge", "x" * 22, lambda record: ({"n": 1}, None), 60)
            assert await store.get("challenge", "x" * 22) == {"n": 1}
            proxy.hang()
            failed = []
            for call in (
                lambda: store.get("challenge", "x" * 22),
                lambda: store.update("challenge", "x" * 22, lambda record: ({"n": 2}, None), 60),
            ):
                with pytest.raises(StoreUnavailable) as raised:
                    await asyncio.wait_for(call(), timeout=10)  # the test's own bound, never reached
                failed.append(raised.value.detail)
            return failed
        finally:
            await store.close()

    try:
        details = asyncio.run(main())
    finally:
        proxy.close()
    assert all("Timeout" in detail for detail in details), details
    # The first failed on the connection it had; the second opened a new one, so the hung
    # connection was not used again (a reply on its way would have answered the wrong call).
    assert proxy.hung_connections == 1


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6399/0", "redis+sentinel://127.0.0.1:26399/main"])
def test_the_default_timeouts_are_short(url, clock):
    sync, asynchronous = RedisStore(url, clock), AsyncRedisStore(url, clock)
    try:
        for store in (sync, asynchronous):
            options = store._client.connection_pool.connection_kwargs
            assert 0 < options["socket_timeout"] <= 2
            assert 0 < options["socket_connect_timeout"] <= 2
    finally:
        sync.close()
        asyncio.run(asynchronous.close())


def test_the_url_sets_the_timeouts(clock):
    store = RedisStore(f"redis://127.0.0.1:6399/0?{FAST}", clock)
    try:
        options = store._client.connection_pool.connection_kwargs
        assert options["socket_timeout"] == 0.2 and options["socket_connect_timeout"] == 0.2
    finally:
        store.close()


def test_a_bank_on_a_redis_that_hangs_answers_503_and_goes_on_after(make_bank, redis_factory):
    server = redis_factory()
    proxy = HungServer(forward_to=server.port)
    try:
        bank = make_bank(STEPUP_STORE_URL=f"redis://{proxy.address}/0?{FAST}")
        browser = signed_in(bank)
        other = held(bank, "carol")
        bank.clock.advance(3601)  # alice's grant is stale: the routes need the store again
        proxy.hang()

        answers = [
            browser.get("/"),
            browser.get("/api/balance", headers=JSON),
            other.post("/stepup/api/challenges", json={"method": "totp"}),
        ]

        for answer in answers:
            assert answer.status_code == 503, (answer.status_code, answer.text[:300])
            assert "Welcome" not in answer.text and "1250.00" not in answer.text
        assert answers[1].json()["status"] == 503
    finally:
        proxy.close()
