"""The SQLite store's connections: one per thread, none left open.

A thread's connection is closed when the thread ends (a server that starts a thread per
request would otherwise keep one open database and one open WAL file per request it ever
served), and every thread's when the store closes. A connection is closed only while no
query runs on it: CPython's ``sqlite3`` crashes the interpreter (a segmentation fault)
when one thread closes a connection that another thread is reading rows from.

Every connection here that writes has a busy timeout of 0: :func:`until` tries again after
short pauses, where SQLite's own wait sleeps up to 100 ms while the lock may be free.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["ThreadConnections", "busy", "restart_checkpoint", "until"]

T = TypeVar("T")

#: the first and the longest pause between two tries at a write lock another process holds.
_FIRST_PAUSE, _LAST_PAUSE = 0.0002, 0.002


class _Connection:
    """One thread's connection and the lock that thread holds while it uses it."""

    __slots__ = ("conn", "lock", "closed")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        """Close the connection once its thread's call on it has returned."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self.conn.close()


class _Holder:
    """A thread's :class:`_Connection`, referenced by that thread's ``threading.local``
    alone: Python drops it when the thread ends, and its finalizer closes the connection."""

    __slots__ = ("connection", "__weakref__")

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection


def _release(guard: threading.Lock, open_: set[_Connection], connection: _Connection) -> None:
    """The finalizer of a thread's holder: close that thread's connection."""
    with guard:
        open_.discard(connection)
    connection.close()


class ThreadConnections:
    """A connection to ``path`` for each thread that asks.

    :param path: the database file.
    :param timeout: seconds a connection waits for another writer.
    :param checkpoint: whether a commit that leaves the WAL long copies it back into the
        database (SQLite's default, a disk flush); connections without leave that to others.
    """

    def __init__(self, path: str, timeout: float, *, checkpoint: bool = True) -> None:
        self.path = path
        self._timeout = timeout
        self._checkpoint = checkpoint
        self._local = threading.local()
        #: every connection not closed yet, of live threads and of ended ones whose
        #: ``threading.local`` values Python has not dropped yet.
        self._open: set[_Connection] = set()
        self._guard = threading.Lock()

    def _holder(self) -> _Holder:
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                if not self._checkpoint:
                    conn.execute("PRAGMA wal_autocheckpoint=0")
            except sqlite3.Error:
                conn.close()  # e.g. not a database: leave no connection open behind the error
                raise
            connection = _Connection(conn)
            holder = self._local.holder = _Holder(connection)
            with self._guard:
                self._open.add(connection)
            # The finalizer holds the connection, never the holder or this object.
            weakref.finalize(holder, _release, self._guard, self._open, connection)
        return holder

    @contextmanager
    def using(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, opened if need be, not closed until the block ends.

        :raises sqlite3.Error: when a new connection cannot be opened.
        """
        while True:
            holder = self._holder()  # held until the block ends, so is its connection
            connection = holder.connection
            with connection.lock:
                if connection.closed:  # the store closed since this thread looked it up
                    if getattr(self._local, "holder", None) is holder:
                        del self._local.holder
                    continue
                yield connection.conn
                return

    def close(self) -> None:
        """Close every thread's connection, each once the call running on it returns; a
        thread that uses the store again opens a new one."""
        # A new local first, so that a thread asking from now on opens a new connection.
        self._local = threading.local()
        with self._guard:
            connections = list(self._open)
            self._open.clear()
        for connection in connections:
            connection.close()


def until(deadline: float, attempt: Callable[[], T | None]) -> T | None:
    """``attempt()``, made again after a pause that grows from 0.2 ms to 2 ms while it
    answers ``None`` (a lock another connection holds), up to ``deadline`` (monotonic)."""
    pause = _FIRST_PAUSE
    while (result := attempt()) is None and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(pause, left))
        pause = min(2 * pause, _LAST_PAUSE)
    return result


def busy(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock it needs."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def restart_checkpoint(conn: sqlite3.Connection, seconds: float) -> tuple[int, int]:
    """``(pages in the WAL, pages copied)`` by a checkpoint that holds the write lock while
    it copies (``RESTART``), the lock tried for as writes try it, up to ``seconds`` (SQLite's
    own wait sleeps 1, 2, 5 … ms, and seldom finds it free between another process's
    writes); a reader it would have to wait for fails it at once. ``(-1, -1)`` if it could
    not run."""

    def once() -> tuple[int, int] | None:
        _, frames, copied = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return (frames, copied) if frames >= 0 else None

    return until(time.monotonic() + seconds, once) or (-1, -1)
