"""The async engine's SQLite store reads on the event loop when SQLite can answer at once,
and in a worker thread (which waits for the lock, then fails closed) when it cannot."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import stepup
from stepup.stores import async_store_from_url


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "stepup.sqlite3"


def _threads_used(store: Any, coro_fn: Any) -> tuple[Any, int]:
    """Run ``coro_fn(store)`` on a new event loop; its result and how many calls it made
    in worker threads."""
    hops = [0]
    original = asyncio.to_thread

    async def to_thread(fn: Any, *args: Any) -> Any:
        hops[0] += 1
        return await original(fn, *args)

    asyncio.to_thread = to_thread  # type: ignore[assignment]
    try:
        result = asyncio.run(coro_fn(store))
    finally:
        asyncio.to_thread = original
    return result, hops[0]


def test_reads_run_on_the_event_loop_and_see_what_was_just_written(path: Path) -> None:
    store = async_store_from_url(f"sqlite:///{path}")

    async def write_then_read(s: Any) -> object:
        await s.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
        return await s.get("subject", "alice"), await s.get_many([("subject", "alice"), ("subject", "bob")])

    try:
        (one, many), threads = _threads_used(store, write_then_read)
    finally:
        asyncio.run(store.close())
    assert one == {"bindings": ["sms"]}
    assert many == [{"bindings": ["sms"]}, None]
    assert threads == 1  # the write went to a worker thread; the reads ran on the loop


def test_a_read_that_would_wait_goes_to_a_worker_thread_and_fails_closed(path: Path) -> None:
    # The store is made (its table created) before the lock is taken.
    sync = stepup.stores.SQLiteStore(path, timeout=0.2)
    sync.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
    sync.close()  # its connections, which a WAL database keeps a shared lock for
    store = stepup.stores.AsyncStoreAdapter(sync, offload=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM stepup_records WHERE kind = 'nothing'")

    async def read(s: Any) -> object:
        try:
            return await s.get("subject", "alice")
        except stepup.StoreUnavailable as e:
            return e

    try:
        refused, threads = _threads_used(store, read)
        # the thread waited its 0.2 s for the lock, then reported the store down
        assert isinstance(refused, stepup.StoreUnavailable)
        assert "unavailable" in str(refused) and "try again" in str(refused)
        assert threads == 1
        holder.close()  # the lock goes with it
        found, threads = _threads_used(store, read)
        assert found == {"bindings": ["sms"]}
        assert threads == 0
    finally:
        holder.close()
        sync.close()


class TenantStore(stepup.stores.SQLiteStore):
    """An app's store that keeps each tenant's records under keys of its own (``update``
    goes through ``update_many``)."""

    def get(self, kind: str, key: str) -> Any:
        return super().get(kind, f"t1/{key}")

    def get_many(self, items: Any) -> Any:
        return super().get_many([(kind, f"t1/{key}") for kind, key in items])

    def update_many(self, items: Any, fn: Any) -> Any:
        return super().update_many([(kind, f"t1/{key}", ttl) for kind, key, ttl in items], fn)


def test_a_store_that_overrides_its_reads_and_writes_is_used_through_them(path: Path) -> None:
    from stepup._twin import arun, run
    from stepup.stores import update_after

    sync = TenantStore(path)
    store = stepup.stores.AsyncStoreAdapter(sync, offload=True)

    def bump(records: list[Any]) -> Any:
        n = (records[0] or {"n": 0})["n"] + 1
        return [("counter", "c", None)], lambda current: ([{"n": n}], n)

    async def both() -> Any:
        await store.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
        got = await store.get("subject", "alice"), await store.get_many([("subject", "alice")])
        return got, await arun(update_after(store, [("counter", "c")], bump))

    try:
        (one, many), bumped = asyncio.run(both())
        assert one == {"bindings": ["sms"]} and many == [{"bindings": ["sms"]}]
        assert bumped == 1 and run(update_after(sync, [("counter", "c")], bump)) == 2
        # under the tenant's keys, where the app put them
        assert stepup.stores.SQLiteStore.get(sync, "counter", "t1/c") == {"n": 2}
        assert stepup.stores.SQLiteStore.get(sync, "counter", "c") is None
    finally:
        sync.close()
