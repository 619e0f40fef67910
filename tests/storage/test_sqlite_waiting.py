"""The SQLite store's writes wait for the write lock up to the store's timeout, then fail
closed: a process's threads take turns, and a write tries again while another process
holds the lock. An error other than a held lock is reported at once."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import stepup


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "stepup.sqlite3"


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's write transaction on ``path``, open until closed."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM stepup_records WHERE kind = 'nothing'")
    return holder


def _in_threads(count: int, fn: Any) -> list[object]:
    """``fn(i)`` in ``count`` threads at once: what each returned or raised."""
    results: list[object] = [None] * count

    def run(i: int) -> None:
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - the test reads it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _set(n: int, record: object) -> tuple[dict[str, int], int]:
    return {"n": n}, n


def _add_one(record: dict[str, int] | None) -> tuple[dict[str, int], int]:
    n = (record or {"n": 0})["n"] + 1
    return {"n": n}, n


def test_writes_from_many_threads_while_another_process_holds_the_lock_all_land_once(path: Path) -> None:
    store = stepup.stores.SQLiteStore(path, timeout=30)
    holder = _hold_write_lock(path)
    under_way = threading.Barrier(8)

    def add_twenty(i: int) -> list[int]:
        under_way.wait()
        if i == 0:  # the other process commits as the others start: most find it locked
            holder.execute("COMMIT")
        return [store.update("counter", "c", _add_one) for _ in range(20)]

    try:
        seen = _in_threads(8, add_twenty)
        stored = store.get("counter", "c")
    finally:
        holder.close()
        store.close()
    # every increment landed once: no write lost, none made twice
    assert sorted(n for counts in seen for n in counts) == list(range(1, 161))  # type: ignore[attr-defined]
    assert stored == {"n": 160}


def test_writes_that_wait_past_the_timeout_fail_closed_and_change_nothing(path: Path) -> None:
    store = stepup.stores.SQLiteStore(path, timeout=0.3)
    holder = _hold_write_lock(path)
    try:
        refused = _in_threads(3, lambda i: store.update("counter", f"c{i}", _add_one))
        # each thread waited its turn, then the lock, up to the timeout
        assert all(isinstance(e, stepup.StoreUnavailable) and "try again" in str(e) for e in refused), refused
        assert [store.get("counter", f"c{i}") for i in range(3)] == [None, None, None]
        holder.close()
        assert _in_threads(3, lambda i: store.update("counter", f"c{i}", _add_one)) == [1, 1, 1]
    finally:
        holder.close()
        store.close()


def test_an_error_other_than_a_held_lock_is_reported_at_once(path: Path) -> None:
    store = stepup.stores.SQLiteStore(path, timeout=2)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON stepup_records BEGIN SELECT RAISE(ABORT, 'disk policy'); END"
        )
    tries: list[object] = []

    def step(record: object) -> tuple[dict[str, int], None]:
        tries.append(record)
        return {"n": 1}, None

    try:
        with pytest.raises(stepup.StoreUnavailable, match="disk policy"):
            store.update("counter", "c", step)
    finally:
        store.close()
    assert len(tries) == 1  # not tried again as if another writer held the lock


def test_the_wal_stays_bounded_while_several_threads_write(path: Path) -> None:
    # Each checkpoint must catch up with the WAL for SQLite to write it from its start again;
    # one that always runs while another thread writes never does, and the WAL grows by every
    # write (some 200 MB for 40,000 small ones).
    store = stepup.stores.SQLiteStore(path)
    payload = "x" * 1000
    try:
        _in_threads(
            4,
            lambda i: [store.update("record", f"r{i}-{n % 20}", lambda r: ({"p": payload}, None)) for n in range(1500)],
        )
        wal = Path(f"{path}-wal").stat().st_size  # (the last connection to close removes it)
    finally:
        store.close()
    assert wal < 6_000_000, wal


def test_the_wal_stays_bounded_while_coroutines_write_on_the_event_loop(path: Path) -> None:
    store = stepup.stores.async_store_from_url(f"sqlite:///{path}")
    payload = "x" * 1000

    async def write(i: int) -> None:
        for n in range(750):
            await store.update("record", f"r{i}-{n % 20}", lambda r: ({"p": payload}, None))

    async def all_of_them() -> int:
        try:
            await asyncio.gather(*(write(i) for i in range(8)))
            return Path(f"{path}-wal").stat().st_size
        finally:
            await store.close()

    wal = asyncio.run(all_of_them())
    assert wal < 6_000_000, wal


def test_the_wal_stays_bounded_while_two_stores_on_one_file_write(path: Path) -> None:
    # Two stores on one file behave as two processes: each writes while the other
    # checkpoints, so no passive checkpoint ever copies the whole WAL; past some 8 MB a
    # checkpoint copies it holding the write lock, and the WAL starts over (it reached 20
    # to 30 MB here; without, 180 MB).
    stores = [stepup.stores.SQLiteStore(path), stepup.stores.SQLiteStore(path)]
    payload = "x" * 1000
    try:
        _in_threads(
            4,
            lambda i: [
                stores[i % 2].update("record", f"r{i}-{n % 20}", lambda r: ({"p": payload}, None)) for n in range(2500)
            ],
        )
        wal = Path(f"{path}-wal").stat().st_size
    finally:
        for store in stores:
            store.close()
    assert wal < 60_000_000, wal


def test_a_reader_that_holds_an_old_snapshot_does_not_make_every_write_checkpoint(path: Path) -> None:
    # A reader that keeps its transaction open (a backup, a shell) keeps every checkpoint
    # from copying the whole WAL. An unfinished one is made again after the next write,
    # eight times at most, then at the usual pace: not once a write for as long as it reads.
    store = stepup.stores.SQLiteStore(path, timeout=5)
    calls: list[None] = []
    checkpoint = store.checkpoint

    def counted() -> None:
        calls.append(None)
        checkpoint()

    store.checkpoint = counted  # type: ignore[method-assign]
    with closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM stepup_records").fetchone()
        try:
            written = [store.update("record", f"r{n % 20}", functools.partial(_set, n)) for n in range(1024)]
            assert written == list(range(1024))
        finally:
            reader.execute("COMMIT")
            store.close()
    assert 4 <= len(calls) <= 4 * 9, len(calls)  # every 256 writes, and up to 8 more each time
