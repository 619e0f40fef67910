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
