"""``sqlite:///path``: the embedded default, safe with many threads and many processes.

Each thread has its own connection, closed when the thread ends (a server that starts a
thread per request would otherwise keep one open file per request it ever served) and, for
every thread, when the store closes. The database runs in WAL mode so readers never wait,
and every update is a ``BEGIN IMMEDIATE`` transaction: SQLite takes the write lock before
the read, so two processes updating one challenge run one after the other.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._clock import Clock, system_clock
from .._errors import ConfigurationError, StoreUnavailable
from ._base import Item, ManyMutator, Mutator, Record, Write

__all__ = ["SQLiteStore"]

#: one compact encoder for every write (``json.dumps`` with options builds one per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stepup_records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stepup_records_expiry ON stepup_records (expires_at)
    WHERE expires_at IS NOT NULL;
"""
_PURGE_EVERY = 1000


class _Holder:
    """A thread's connection, held by that thread's ``threading.local`` alone: Python drops
    it when the thread ends, and its finalizer then closes the connection."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


def _release(guard: threading.Lock, open_: set[sqlite3.Connection], conn: sqlite3.Connection) -> None:
    """Close the connection of a thread that ended (closing twice is harmless)."""
    with guard:
        open_.discard(conn)
    conn.close()


class SQLiteStore:
    """Records in one SQLite file.

    :param path: the database file; its folder must exist.
    :param clock: the time source for expiry.
    :param timeout: seconds to wait for another writer before giving up.
    :raises ConfigurationError: for an in-memory database, which threads could not share.
    """

    #: ``update_many`` is atomic across records (one transaction).
    atomic_many = True

    def __init__(self, path: str | Path, clock: Clock = system_clock, timeout: float = 5.0) -> None:
        if str(path) in {"", ":memory:"}:
            raise ConfigurationError("Use memory:// for an in-memory store; sqlite:/// needs a file path.")
        self.path = str(path)
        self._clock = clock
        self._timeout = timeout
        self._local = threading.local()
        #: every connection not closed yet, of live threads (and of ended ones until Python
        #: has dropped their ``threading.local`` values).
        self._connections: set[sqlite3.Connection] = set()
        self._guard = threading.Lock()
        self._writes = 0
        try:
            self._conn().executescript(_SCHEMA)
        except sqlite3.Error as e:
            self.close()
            raise StoreUnavailable(f"The SQLite store at {self.path} cannot be opened: {e}") from e

    def _conn(self) -> sqlite3.Connection:
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None:
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error:
                conn.close()  # e.g. not a database: leave no connection open behind the error
                raise
            holder = self._local.holder = _Holder(conn)
            with self._guard:
                self._connections.add(conn)
            # The finalizer holds the connection, never the holder or the store.
            weakref.finalize(holder, _release, self._guard, self._connections, conn)
        return holder.conn

    def _unavailable(self, e: sqlite3.Error) -> StoreUnavailable:
        return StoreUnavailable(f"The SQLite store is unavailable ({e}). Nothing was changed; try again.")

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        try:
            row = self._conn().execute(
                "SELECT value, expires_at FROM stepup_records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        except sqlite3.Error as e:
            raise self._unavailable(e) from e
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return json.loads(row[0])  # type: ignore[no-any-return]

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update`."""

        def one(records: list[Record | None]) -> tuple[list[Record | None], T]:
            new, result = fn(records[0])
            return [new], result

        return self.update_many([(kind, key, ttl)], one)

    def get_many(self, items: Sequence[Item]) -> list[Record | None]:
        """See :meth:`stepup.stores.Store.get_many`."""
        if not items:
            return []
        try:
            rows = self._rows(self._conn(), items)
        except sqlite3.Error as e:
            raise self._unavailable(e) from e
        now = self._clock()
        found = (rows.get(item) for item in items)
        return [json.loads(row[0]) if row and (row[1] is None or row[1] > now) else None for row in found]

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many`: one write transaction."""
        if not items:
            return fn([])[1]
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise self._unavailable(e) from e
        try:
            now = self._clock()
            rows = self._rows(conn, [(kind, key) for kind, key, _ in items])
            stored = [rows.get((kind, key)) for kind, key, _ in items]
            live = [row is not None and (row[1] is None or row[1] > now) for row in stored]
            new, result = fn([json.loads(row[0]) if ok and row else None for row, ok in zip(stored, live, strict=True)])
            for (kind, key, ttl), row, ok, record in zip(items, stored, live, new, strict=True):
                if record is None:
                    if row is not None:
                        conn.execute("DELETE FROM stepup_records WHERE kind = ? AND key = ?", (kind, key))
                    continue
                expires_at = now + ttl if ttl is not None else (row[1] if ok and row else None)
                conn.execute(
                    "INSERT OR REPLACE INTO stepup_records (kind, key, value, expires_at) VALUES (?, ?, ?, ?)",
                    (kind, key, _encode(record), expires_at),
                )
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                conn.execute("DELETE FROM stepup_records WHERE expires_at <= ?", (now,))
            conn.execute("COMMIT")
            return result
        except sqlite3.Error as e:
            if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                conn.execute("ROLLBACK")
            raise self._unavailable(e) from e
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _rows(conn: sqlite3.Connection, items: Sequence[Item]) -> dict[Item, tuple[str, float | None]]:
        """The stored ``(value, expires_at)`` of each of ``items`` that has a row, in one query."""
        # OR of key pairs, not a row-value IN, which SQLite answers with a full scan.
        where = " OR ".join(["(kind = ? AND key = ?)"] * len(items))
        query = f"SELECT kind, key, value, expires_at FROM stepup_records WHERE {where}"
        args: list[Any] = [part for item in items for part in item]
        return {(kind, key): (value, expires_at) for kind, key, value, expires_at in conn.execute(query, args)}

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        try:
            conn = self._conn()
            # Most deletes find nothing (a verified code clears a failure count that was
            # never set), and a read costs a fraction of a write transaction. A record
            # written between the two is as if written just after the delete.
            if conn.execute("SELECT 1 FROM stepup_records WHERE kind = ? AND key = ?", (kind, key)).fetchone():
                conn.execute("DELETE FROM stepup_records WHERE kind = ? AND key = ?", (kind, key))
        except sqlite3.Error as e:
            raise self._unavailable(e) from e

    def close(self) -> None:
        """Close every thread's connection; a thread that uses the store again opens a new one."""
        with self._guard:
            connections = list(self._connections)
            self._connections.clear()
        # Outside the lock: dropping the old ``threading.local`` runs the finalizers of this
        # thread's holder, which take the lock.
        for conn in connections:
            conn.close()
        self._local = threading.local()
