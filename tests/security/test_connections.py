"""Connections: the SQLite store leaves none open behind it, and closes none in use.

Each thread that uses a SQLite store gets a connection of its own. A server that starts a
thread per request (Flask's development server, many WSGI servers) must not keep one open
file per request it ever served until the process runs out of them: a thread's connection
is closed when the thread ends, and every connection when the engine closes. Closing the
engine while other threads still run queries must neither crash the interpreter (CPython's
sqlite3 does when a connection is closed under a query that another thread is reading)
nor fail those queries.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import stepup
from tests.conftest import SECRET_KEY

_REQUESTS = 20


def _open_files(folder: Path) -> list[str]:
    """The files under ``folder`` this process holds open."""
    inside = str(folder.resolve()) + os.sep
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir itself used, closed by now
            continue
        if target.startswith(inside):
            found.append(target)
    return found


def _connections(folder: Path) -> int:
    """The SQLite connections open on ``folder``'s store: each has the write-ahead log open
    once. (SQLite may keep a closed connection's database file open for a while, until no
    other connection holds a lock on it, so the database file itself would not tell.)"""
    return sum(1 for name in _open_files(folder) if name.endswith("-wal"))


Engines = stepup.Engine | stepup.AsyncEngine


def _engine(tmp_path: Path, kind: Callable[..., Engines]) -> Engines:
    return kind(secret_key=SECRET_KEY, store_url=f"sqlite:///{tmp_path}/stepup.sqlite3", sms_url="memory://")


def _one_request(engine: stepup.Engine) -> None:
    assert engine.bindings("alice") == []


def _serve_in_threads(engine: stepup.Engine, requests: int) -> None:
    """``requests`` requests, each in a thread of its own that ends with it."""
    for _ in range(requests):
        request = threading.Thread(target=_one_request, args=(engine,))
        request.start()
        request.join()


def test_a_thread_per_request_server_keeps_no_file_open_per_request(tmp_path: Path) -> None:
    engine = _engine(tmp_path, stepup.Engine)
    assert isinstance(engine, stepup.Engine)
    try:
        _one_request(engine)  # the server's own thread has its connection
        assert _connections(tmp_path) == 1
        _serve_in_threads(engine, _REQUESTS)
        assert _connections(tmp_path) == 1
        _one_request(engine)  # the server's thread still answers on its own connection
    finally:
        engine.close()
    assert _open_files(tmp_path) == []


def test_closing_the_engine_closes_the_connections_of_threads_still_running(tmp_path: Path) -> None:
    engine = _engine(tmp_path, stepup.Engine)
    assert isinstance(engine, stepup.Engine)
    with ThreadPoolExecutor(max_workers=4) as workers:
        list(workers.map(lambda _: _one_request(engine), range(_REQUESTS)))
        assert _connections(tmp_path) >= 1
        engine.close()
        assert _open_files(tmp_path) == []
        # a worker that serves another request after the close opens a new connection
        list(workers.map(lambda _: _one_request(engine), range(4)))
        assert _connections(tmp_path) >= 1
        engine.close()
    assert _open_files(tmp_path) == []


def test_an_async_engine_closes_the_connections_its_worker_threads_opened(tmp_path: Path) -> None:
    engine = _engine(tmp_path, stepup.AsyncEngine)
    assert isinstance(engine, stepup.AsyncEngine)

    async def serve() -> None:
        await asyncio.gather(*(engine.bindings("alice") for _ in range(_REQUESTS)))

    # asyncio.run ends by stopping the loop's worker threads, and with them their
    # connections: each run opens new ones and leaves none behind. The loop's own thread
    # keeps one connection, for the reads it makes inline, which every later run reuses.
    before = _connections(tmp_path)  # the one that created the tables, if any
    for _ in range(3):
        asyncio.run(serve())
        assert _connections(tmp_path) == before + 1
    asyncio.run(engine.close())
    assert _open_files(tmp_path) == []


#: Four threads read 200 records in a loop while the main thread closes the store again and
#: again. Run in a process of its own, since what it guards against is a crash.
_CLOSING_UNDER_READERS = """
import sys, threading
from stepup.stores import SQLiteStore

store = SQLiteStore(sys.argv[1])
items = [("record", str(i)) for i in range(200)]
for kind, key in items:
    store.update(kind, key, lambda record: ({"v": "x" * 1000}, None))
done, failures = threading.Event(), []

def reader():
    while not done.is_set():
        try:
            assert store.get_many(items) == [{"v": "x" * 1000}] * 200
        except Exception as e:
            failures.append(repr(e))

readers = [threading.Thread(target=reader) for _ in range(4)]
for thread in readers:
    thread.start()
for _ in range(30):
    store.get_many(items[:1])
    store.close()
done.set()
for thread in readers:
    thread.join()
store.close()
print(len(failures), sorted(set(failures))[:3])
"""


def test_closing_the_store_under_running_queries_neither_crashes_nor_fails_them(tmp_path: Path) -> None:
    script = textwrap.dedent(_CLOSING_UNDER_READERS)
    run = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", script, str(tmp_path / "stepup.sqlite3")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "0 []"
    assert _open_files(tmp_path) == []
