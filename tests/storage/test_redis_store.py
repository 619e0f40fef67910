"""The store contract on a real Redis and on a 3-node Redis Cluster, sync and asyncio, and
what only Redis does: keys that expire on the server, one hash tag per record, clear
errors when Redis is away."""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import redis

import stepup
import stepup.stores
from stepup.stores import AsyncRedisStore, Record, RedisStore, async_store_from_url, store_from_url
from stepup.testing import StoreContract, StoreFactory

T = TypeVar("T")


class TestRedisStore(StoreContract):
    @pytest.fixture
    def make_store(self, redis_url: str) -> StoreFactory:
        return lambda clock: RedisStore(redis_url, clock)


class TestRedisStoreFromUrl(StoreContract):
    @pytest.fixture
    def make_store(self, redis_url: str) -> StoreFactory:
        return lambda clock: store_from_url(redis_url + "?prefix=app-two", clock)


class _OnOneLoop:
    """An :class:`AsyncRedisStore` driven from sync code through one event loop in its own
    thread, so the sync contract runs on the asyncio twin (its threads' calls interleave
    on that loop)."""

    def __init__(self, url: str, clock: stepup.FrozenClock) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever)
        self._thread.start()
        self._store = self._run(self._make(url, clock))

    @staticmethod
    async def _make(url: str, clock: stepup.FrozenClock) -> Any:
        return async_store_from_url(url, clock)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def get(self, kind: str, key: str) -> Record | None:
        return self._run(self._store.get(kind, key))

    def update(self, kind: str, key: str, fn: Any, ttl: float | None = None) -> Any:
        return self._run(self._store.update(kind, key, fn, ttl))

    def delete(self, kind: str, key: str) -> None:
        self._run(self._store.delete(kind, key))

    def get_many(self, items: Any) -> list[Record | None]:
        return self._run(self._store.get_many(items))

    def update_many(self, items: Any, fn: Any) -> Any:
        return self._run(self._store.update_many(items, fn))

    def close(self) -> None:
        try:
            self._run(self._store.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


class TestAsyncRedisStore(StoreContract):
    @pytest.fixture
    def make_store(self, redis_url: str) -> StoreFactory:
        # The contract's racing threads open their connections at once on one loop; on a
        # loaded 2-core machine some take longer than the default second to connect.
        slow = redis_url + "?socket_connect_timeout=10"
        return lambda clock: _OnOneLoop(slow, clock)  # type: ignore[return-value]


def _in_a_cluster(url: str) -> str:
    """``url`` with a prefix of its own: the cluster lives for the module, each store starts empty."""
    return f"{url}?prefix=t{uuid.uuid4().hex[:12]}"


class TestRedisClusterStore(StoreContract):
    @pytest.fixture
    def make_store(self, redis_cluster: str) -> StoreFactory:
        return lambda clock: RedisStore(_in_a_cluster(redis_cluster), clock)


class TestAsyncRedisClusterStore(StoreContract):
    @pytest.fixture
    def make_store(self, redis_cluster: str) -> StoreFactory:
        return lambda clock: _OnOneLoop(_in_a_cluster(redis_cluster), clock)  # type: ignore[return-value]


def test_the_async_url_gives_the_native_asyncio_store(redis_url: str) -> None:
    async def make() -> Any:
        store = async_store_from_url(redis_url)
        await store.close()
        return store

    assert isinstance(asyncio.run(make()), AsyncRedisStore)


# -- on the server --------------------------------------------------------------------------


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    store = RedisStore(redis_url, stepup.FrozenClock())
    yield store
    store.close()


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_a_record_is_one_key_with_its_own_hash_tag(store: RedisStore, server: redis.Redis) -> None:
    store.update("challenge", "abc", lambda r: ({"n": 1}, None), ttl=60)
    store.update("subject", "alice", lambda r: ({"n": 2}, None))
    assert sorted(server.keys("*")) == [b"stepup:{challenge:abc}", b"stepup:{subject:alice}"]


def test_keys_expire_on_the_server_with_their_ttl(store: RedisStore, server: redis.Redis) -> None:
    store.update("challenge", "c", lambda r: ({"n": 1}, None), ttl=60)
    assert 59_000 < server.pttl("stepup:{challenge:c}") <= 60_000
    # an update without a ttl keeps the key's TTL; a record without one has none
    store.update("challenge", "c", lambda r: ({"n": 2}, None))
    assert 0 < server.pttl("stepup:{challenge:c}") <= 60_000
    store.update("subject", "alice", lambda r: ({"n": 1}, None))
    assert server.pttl("stepup:{subject:alice}") == -1


def _update_one(store: RedisStore, fn: Callable[[Record | None], Any]) -> None:
    store.update("counter", "n", fn)


def _update_two(store: RedisStore, fn: Callable[[Record | None], Any]) -> None:
    def both(records: list[Record | None]) -> tuple[list[Record | None], None]:
        new, _ = fn(records[0])
        return [new, {"also": True}], None

    store.update_many([("counter", "n", None), ("counter", "other", 60.0)], both)


@pytest.mark.parametrize("update", [_update_one, _update_two])
def test_a_lost_reply_after_a_write_does_not_apply_the_change_twice(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch, update: Callable[..., None]
) -> None:
    calls: list[int] = []
    store.update("counter", "n", lambda r: ({"n": 0}, None))  # the script is loaded now
    read_response = redis.connection.Connection.read_response
    armed = {"drop": False}

    def lose_one_reply(self: Any, *args: Any, **kwargs: Any) -> Any:
        reply = read_response(self, *args, **kwargs)
        if armed["drop"]:
            armed["drop"] = False  # the write landed; its reply is lost on the way back
            raise redis.ConnectionError("connection reset")
        return reply

    def increment(record: Record | None) -> tuple[Record, None]:
        calls.append(1)
        armed["drop"] = True  # the next reply is the compare-and-set's
        return {"n": (record or {"n": 0})["n"] + 1}, None

    monkeypatch.setattr(redis.connection.Connection, "read_response", lose_one_reply)
    update(store, increment)
    monkeypatch.undo()
    assert store.get("counter", "n") == {"n": 1}
    assert len(calls) == 1


def test_redis_away_is_a_clear_store_unavailable_without_the_password(unused_port: int) -> None:
    store = RedisStore(f"redis://:hunter2-secret@127.0.0.1:{unused_port}/0")
    try:
        calls = (lambda: store.get("subject", "alice"), lambda: store.update("subject", "alice", lambda r: (r, None)))
        for call in calls:
            with pytest.raises(stepup.StoreUnavailable) as caught:
                call()
            assert f"The Redis store at redis://127.0.0.1:{unused_port}/0 is unavailable" in caught.value.detail
            assert "hunter2" not in caught.value.detail and "hunter2" not in caught.value.message
            assert caught.value.status == 503
    finally:
        store.close()


def test_a_sentinel_url_needs_its_service_name() -> None:
    with pytest.raises(stepup.ConfigurationError, match="service"):
        store_from_url("redis+sentinel://127.0.0.1:26379")


def test_a_cluster_url_refuses_a_database_and_unknown_options() -> None:
    with pytest.raises(stepup.ConfigurationError, match="database 0"):
        store_from_url("redis+cluster://127.0.0.1:7000?db=2")
    with pytest.raises(stepup.ConfigurationError, match="does not take 'retries'"):
        store_from_url("redis+cluster://127.0.0.1:7000?retries=9")


def test_without_redis_py_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "redis" or m.startswith(("redis.", "stepup.stores._redis"))]:
        monkeypatch.delitem(sys.modules, name)
    for module in ("_redis", "_redis_client"):
        monkeypatch.delattr(stepup.stores, module, raising=False)
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(stepup.ConfigurationError, match=r"pip install 'stepup\[redis\]'"):
        store_from_url("redis://127.0.0.1:6379/0")


def test_the_scheme_table_names_redis() -> None:
    with pytest.raises(stepup.ConfigurationError) as caught:
        store_from_url("postgres://db/stepup")
    assert "redis://" in caught.value.message and "redis+cluster://" in caught.value.message


def test_a_redis_that_does_not_answer_hits_the_socket_timeout() -> None:
    import socket

    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        store = RedisStore(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2")
        try:
            with pytest.raises(stepup.StoreUnavailable) as caught:
                store.get("challenge", "c")
        finally:
            store.close()
    assert "is unavailable (Timeout" in caught.value.detail


def test_the_twins_have_the_same_public_methods() -> None:
    import inspect

    def public(cls: type) -> dict[str, Any]:
        return {n: m for n, m in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}

    sync, asynchronous = public(RedisStore), public(AsyncRedisStore)
    assert sync.keys() == asynchronous.keys()
    for name, method in asynchronous.items():
        assert inspect.signature(method) == inspect.signature(sync[name]), name
    io = {"get", "update", "delete", "get_many", "update_many", "close"}
    assert io <= asynchronous.keys() and all(inspect.iscoroutinefunction(asynchronous[name]) for name in io)


def test_a_forked_child_talks_to_redis_on_connections_of_its_own(redis_url: str) -> None:
    """A store made before a fork (a server that loads the app, then forks its workers):
    the child must not write on the parent's kept connection, whose replies would then go
    to whichever process reads first, nor reuse its write ids."""
    import os
    import warnings

    def add(record: Record | None) -> tuple[Record, None]:
        return {"n": (record or {"n": 0})["n"] + 1}, None

    store = RedisStore(redis_url)
    report_read, report_write = os.pipe()
    go_read, go_write = os.pipe()
    try:
        for _ in range(2):  # (the first loads the script); the parent now keeps a connection
            store.update("counter", "n", add)
        parents_port, parents_id = _kept_port(store), _write_id()
        with warnings.catch_warnings():  # 3.12+ warns of a fork beside the test runner's threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: report through the pipe and its exit status only
            status = 1
            try:
                store.update("counter", "n", add)  # alone: the parent waits for the report
                os.write(report_write, f"{_kept_port(store)} {_write_id()}".encode())
                os.read(go_read, 1)
                for _ in range(300):  # now both at once
                    store.update("counter", "n", add)
                status = 0
            finally:
                os._exit(status)
        childs_port, childs_id = os.read(report_read, 200).decode().split()
        os.write(go_write, b"g")
        for _ in range(300):
            store.update("counter", "n", add)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert int(childs_port) != parents_port  # a connection of its own
        assert childs_id[:16] != parents_id[:16]  # write ids of its own
        assert store.get("counter", "n") == {"n": 603}
    finally:
        store.close()
        for fd in (report_read, report_write, go_read, go_write):
            os.close(fd)


def _kept_port(store: RedisStore) -> int:
    """The local port of the connection the sync store keeps for its next command."""
    return int(store._commands._idle[-1]._sock.getsockname()[1])  # type: ignore[attr-defined]


def _write_id() -> str:
    from stepup.stores._redis_script import _write_id as make

    return make()
