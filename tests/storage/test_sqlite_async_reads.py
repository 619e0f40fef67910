"""The async engine's SQLite store reads and writes on the event loop when SQLite can answer
at once, and in a worker thread (which waits for the lock, then fails closed) when it
cannot; the WAL is checkpointed in the thread, never on the loop."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
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


def test_reads_and_writes_run_on_the_event_loop_and_see_each_other(path: Path) -> None:
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
    assert threads == 0


def test_a_read_that_would_wait_goes_to_a_worker_thread_and_fails_closed(path: Path) -> None:
    # The store is made (its table created) before the lock is taken.
    sync = stepup.stores.SQLiteStore(path, timeout=0.2)
    sync.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
    sync.close()  # its connections, which a WAL database keeps a shared lock for
    store = stepup.stores.AsyncStoreAdapter(sync, offload=True)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
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


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's write transaction on ``path``, open until closed."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM stepup_records WHERE kind = 'nothing'")
    return holder


@contextmanager
def _held(path: Path, timeout: float) -> Iterator[tuple[stepup.stores.SQLiteStore, Any, sqlite3.Connection]]:
    """A SQLite store, the async engine's view of it, and another process's write
    transaction on its file, open until committed; all closed after the block."""
    sync = stepup.stores.SQLiteStore(path, timeout=timeout)
    holder = _hold_write_lock(path)
    try:
        yield sync, stepup.stores.AsyncStoreAdapter(sync, offload=True), holder
    finally:
        holder.close()
        sync.close()


def test_a_write_that_would_wait_goes_to_a_worker_thread_and_fails_closed(path: Path) -> None:
    async def write(s: Any) -> object:
        try:
            return await s.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, "written"))
        except stepup.StoreUnavailable as e:
            return e

    with _held(path, timeout=0.2) as (sync, store, holder):
        refused, threads = _threads_used(store, write)
        # the loop did not wait; the thread waited its 0.2 s for the lock, then failed closed
        assert isinstance(refused, stepup.StoreUnavailable) and "try again" in str(refused)
        assert threads == 1
        assert sync.get("subject", "alice") is None  # nothing written
        holder.close()
        done, threads = _threads_used(store, write)
        assert done == "written" and threads == 0
        assert sync.get("subject", "alice") == {"bindings": ["sms"]}


def test_a_write_waiting_for_another_writer_is_made_once_the_lock_is_free(path: Path) -> None:
    async def write_while_held(store: Any, holder: sqlite3.Connection) -> object:
        task = asyncio.create_task(store.update_many([("counter", "c", None)], lambda r: ([{"n": 1}], "done")))
        for _ in range(20):  # the loop runs on while the write waits in its thread
            await asyncio.sleep(0)
        assert not task.done()
        holder.execute("COMMIT")
        return await task

    with _held(path, timeout=30) as (sync, store, holder):
        assert asyncio.run(write_while_held(store, holder)) == "done"
        assert sync.get("counter", "c") == {"n": 1}


def test_writes_that_come_while_one_waits_in_a_thread_wait_for_it_then_write_on_the_loop(path: Path) -> None:
    # One write waits in a worker thread for another process's lock. The writes that come
    # meanwhile would find the lock taken too: they wait for that thread's write, then are
    # made on the loop, rather than each queueing in a thread of its own (under load, every
    # write in a thread holds the lock longer, so that queue grew by itself).
    async def writes_while_held(s: Any, holder: sqlite3.Connection) -> list[object]:
        first = asyncio.create_task(s.update("counter", "c0", lambda r: ({"n": 0}, 0)))
        await asyncio.sleep(0)
        rest = [asyncio.create_task(s.update("counter", f"c{i}", lambda r, i=i: ({"n": i}, i))) for i in range(1, 5)]
        for _ in range(20):
            await asyncio.sleep(0)
        assert not any(task.done() for task in (first, *rest))
        holder.execute("COMMIT")
        return list(await asyncio.gather(first, *rest))

    with _held(path, timeout=30) as (sync, store, holder):
        results, threads = _threads_used(store, functools.partial(writes_while_held, holder=holder))
        assert results == [0, 1, 2, 3, 4]
        assert threads == 1
        assert [sync.get("counter", f"c{i}") for i in range(5)] == [{"n": i} for i in range(5)]


def test_a_store_shared_by_event_loops_in_two_threads_writes_for_both(path: Path) -> None:
    # A store shared by loops in several threads (a test client's, a worker's): a write on
    # one loop does not wait on another loop's write in a thread, whose end it would never
    # hear of (its callbacks run on its own loop), and so never hangs.
    first_waiting = threading.Event()
    results: dict[str, object] = {}

    async def first(store: Any) -> object:
        task = asyncio.create_task(store.update("counter", "a", lambda r: ({"n": 1}, "a")))
        for _ in range(5):
            await asyncio.sleep(0)
        first_waiting.set()
        return await task

    async def second(store: Any) -> object:
        return await store.update("counter", "b", lambda r: ({"n": 2}, "b"))

    with _held(path, timeout=30) as (sync, store, holder):
        threads = [
            threading.Thread(target=lambda: results.update(a=asyncio.run(first(store)))),
            threading.Thread(target=lambda: first_waiting.wait(10) and results.update(b=asyncio.run(second(store)))),
        ]
        for thread in threads:
            thread.start()
        assert first_waiting.wait(10)
        holder.execute("COMMIT")
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)
        assert results == {"a": "a", "b": "b"}
        assert [sync.get("counter", k) for k in "ab"] == [{"n": 1}, {"n": 2}]


def test_writes_on_the_event_loop_leave_the_checkpoint_to_a_worker_thread(path: Path) -> None:
    store = async_store_from_url(f"sqlite:///{path}")
    database, wal = path, Path(f"{path}-wal")
    sizes: list[tuple[int, int]] = []

    async def big_writes(s: Any) -> None:
        sizes.append((database.stat().st_size, wal.stat().st_size))
        for i in range(257):
            await s.update("record", f"r{i}", lambda r: ({"payload": "x" * 20_000}, None))
            if i in (254, 256):  # the 257th write waits for the checkpoint the 256th left
                sizes.append((database.stat().st_size, wal.stat().st_size))

    try:
        _, threads = _threads_used(store, big_writes)
    finally:
        asyncio.run(store.close())
    (db_first, _), (db_loop, wal_loop), (db_after, _) = sizes
    # 255 writes on the loop: 5 MB in the WAL, past SQLite's 1,000 pages, and not one page
    # copied back into the database (a disk flush the loop would have waited for)
    assert wal_loop > 5_000_000 and db_loop == db_first
    # after the 256th, a worker thread checkpointed; the write after it, which starts the
    # WAL again, went to a thread too
    assert threads == 2 and db_after > 5_000_000


def test_writes_on_the_event_loop_keep_the_wal_bounded(path: Path) -> None:
    store = async_store_from_url(f"sqlite:///{path}")
    wal = Path(f"{path}-wal")
    sizes: list[int] = []

    async def many_writes(s: Any) -> None:
        for i in range(5000):
            await s.update("record", f"r{i % 50}", lambda r: ({"payload": "x" * 2000}, None))
            if i % 500 == 499:
                sizes.append(wal.stat().st_size)

    try:
        _, threads = _threads_used(store, many_writes)
    finally:
        asyncio.run(store.close())
    # every 256 writes a thread checkpoints, and SQLite then writes the WAL from its start:
    # it stays a few MB however long this runs (without, 5,000 writes of 2 KB make 68 MB)
    assert max(sizes) < 6_000_000, sizes
    # in a thread too: the write after each checkpoint (it starts the WAL again and flushes
    # its header), and a purge of expired records every 1,000 writes
    assert threads == 2 * (5000 // 256) + 5000 // 1000


def _rows(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM stepup_records").fetchone()[0])


@pytest.mark.parametrize("engine", ["plain", "async"])
def test_expired_records_are_purged_every_thousand_writes(path: Path, engine: str) -> None:
    clock = stepup.FrozenClock(1_800_000_000.0)
    sync = stepup.stores.SQLiteStore(path, clock=clock)
    store = stepup.stores.AsyncStoreAdapter(sync, offload=True)

    def write(i: int) -> Any:
        fn = lambda r: ({"n": i}, None)  # noqa: E731
        return (
            store.update("record", f"r{i % 10}", fn, 60)
            if engine == "async"
            else sync.update("record", f"r{i % 10}", fn, 60)
        )

    async def writes(first: int, last: int) -> None:
        for i in range(first, last):
            result = write(i)
            if engine == "async":
                await result

    try:
        asyncio.run(writes(0, 10))
        clock.advance(120)  # all ten expired, still stored
        for _ in range(10, 999):
            sync.update("other", "x", lambda r: ({"n": 1}, None))
        assert _rows(path) == 11
        asyncio.run(writes(999, 1000))  # the thousandth write since the store opened
        assert _rows(path) == 2  # r9 written again, and "other"
    finally:
        sync.close()


class CountingWrapper:
    """An app's wrapper that counts the writes of the store it wraps and hands out the
    rest of that store's methods as they are, or timed (a function that calls each)."""

    def __init__(self, store: Any, *, timed: bool = False) -> None:
        self.inner = store
        self.writes = 0
        self.timed = timed

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not self.timed or not callable(method):
            return method

        @functools.wraps(method)
        def timed(*args: Any) -> Any:
            return method(*args)

        return timed

    def update(self, kind: str, key: str, fn: Any, ttl: Any = None) -> Any:
        self.writes += 1
        return self.inner.update(kind, key, fn, ttl)

    def update_many(self, items: Any, fn: Any) -> Any:
        self.writes += 1
        return self.inner.update_many(items, fn)


@pytest.mark.parametrize("timed", [False, True])
def test_a_wrapper_that_defines_its_own_writes_is_written_through(path: Path, timed: bool) -> None:
    from stepup._twin import arun
    from stepup.stores import update_after

    inner = stepup.stores.SQLiteStore(path)
    wrapper = CountingWrapper(inner, timed=timed)
    store = stepup.stores.AsyncStoreAdapter(wrapper, offload=True)

    def bump(records: list[Any]) -> Any:
        return [("counter", "c", None)], lambda current: ([{"n": 1}], 1)

    async def writes() -> Any:
        await store.update("subject", "alice", lambda r: ({"bindings": ["sms"]}, None))
        await store.update_many([("subject", "bob", None)], lambda r: ([{"bindings": []}], None))
        return await arun(update_after(store, [("counter", "c")], bump))

    try:
        assert asyncio.run(writes()) == 1
        assert wrapper.writes == 3  # every write went through it, the step's included
        assert inner.get("subject", "alice") == {"bindings": ["sms"]}
    finally:
        inner.close()


def test_a_store_whose_write_is_replaced_on_the_instance_is_written_through_it(path: Path) -> None:
    sync = stepup.stores.SQLiteStore(path)
    own = sync.update_many
    calls: list[Any] = []

    def injected(items: Any, fn: Any) -> Any:
        calls.append(items)
        return own(items, fn)

    sync.update_many = injected  # type: ignore[method-assign]
    store = stepup.stores.AsyncStoreAdapter(sync, offload=True)
    try:
        asyncio.run(store.update_many([("counter", "c", None)], lambda r: ([{"n": 1}], None)))
        assert calls == [[("counter", "c", None)]]
    finally:
        sync.close()


def test_a_refusal_raised_in_a_step_on_the_loop_comes_out_as_it_is_and_writes_nothing(path: Path) -> None:
    store = async_store_from_url(f"sqlite:///{path}")

    def refuse(records: list[Any]) -> Any:
        raise stepup.RateLimited("Too many requests.", 30, "test")

    async def step(s: Any) -> object:
        try:
            return await s.update_after([("counter", "c")], refuse)
        except stepup.RateLimited as e:
            return e, await s.get("counter", "c")

    try:
        (refused, record), threads = _threads_used(store, step)
    finally:
        asyncio.run(store.close())
    assert isinstance(refused, stepup.RateLimited) and refused.retry_after == 30
    assert record is None and threads == 0  # refused on the loop, not tried again in a thread
