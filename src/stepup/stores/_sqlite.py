"""``sqlite:///path``: the embedded default, safe with many threads and many processes.

Each thread has its own connection (see :mod:`._sqlite_connections`: none stays open after
its thread ends or the store closes). The database runs in WAL mode so readers never wait,
and every update is a ``BEGIN IMMEDIATE`` transaction: SQLite takes the write lock before
the read, so two processes updating one challenge run one after the other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._clock import Clock, system_clock
from .._errors import ConfigurationError, StoreUnavailable
from ._base import AfterRead, Item, ManyMutator, Mutator, Record, Write
from ._sqlite_connections import ThreadConnections

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
        self._connections = ThreadConnections(self.path, timeout)
        #: connections that never wait for a lock, for :meth:`read_now`.
        self._quick = ThreadConnections(self.path, 0.0)
        self._writes = 0
        try:
            with self._connections.using() as conn:
                conn.executescript(_SCHEMA)
        except sqlite3.Error as e:
            self.close()
            raise StoreUnavailable(f"The SQLite store at {self.path} cannot be opened: {e}") from e

    def _unavailable(self, e: sqlite3.Error) -> StoreUnavailable:
        return StoreUnavailable(f"The SQLite store is unavailable ({e}). Nothing was changed; try again.")

    def get(self, kind: str, key: str) -> Record | None:
        """See :meth:`stepup.stores.Store.get`."""
        try:
            with self._connections.using() as conn:
                row = conn.execute(
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
            with self._connections.using() as conn:
                return self._read(conn, items, self._clock())
        except sqlite3.Error as e:
            raise self._unavailable(e) from e

    def read_now(self, items: Sequence[Item]) -> list[Record | None] | None:
        """:meth:`get_many` if SQLite can answer at once, else ``None``.

        In WAL mode a read waits for no writer, so it nearly always can: the async engine
        reads inline on its event loop this way, and makes the call in a worker thread only
        when this answers ``None`` (SQLite busy, or any other error, which the call in the
        thread then reports as it always does). Writes always go to a worker thread: they
        may wait for another process's write lock.
        """
        try:
            with self._quick.using() as conn:
                return self._read(conn, items, self._clock())
        except sqlite3.Error:
            return None

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many`: one write transaction."""
        if not items:
            return fn([])[1]
        try:
            with self._connections.using() as conn:
                return self._update_many(conn, lambda now: (items, fn))
        except sqlite3.Error as e:
            raise self._unavailable(e) from e

    def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :func:`stepup.stores.update_after`: the records read and those written in one
        write transaction, one call (a read and an ``update_many`` were two, and on the
        async engine two hops to a worker thread)."""
        try:
            with self._connections.using() as conn:
                return self._update_many(conn, lambda now: after(self._read(conn, reads, now)))
        except sqlite3.Error as e:
            raise self._unavailable(e) from e

    def _update_many(
        self, conn: sqlite3.Connection, step: Callable[[float], tuple[Sequence[Write], ManyMutator[T]]]
    ) -> T:
        """One write transaction: the records of what ``step`` asks for (given the time),
        changed by the function it gives."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            items, fn = step(now)
            rows = self._rows(conn, [(kind, key) for kind, key, _ in items]) if items else {}
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

    def _read(self, conn: sqlite3.Connection, items: Sequence[Item], now: float) -> list[Record | None]:
        """The live records of ``items`` on ``conn``, in order."""
        rows = self._rows(conn, items) if items else {}
        found = (rows.get(item) for item in items)
        return [json.loads(row[0]) if row and (row[1] is None or row[1] > now) else None for row in found]

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
            with self._connections.using() as conn:
                self._delete(conn, kind, key)
        except sqlite3.Error as e:
            raise self._unavailable(e) from e

    @staticmethod
    def _delete(conn: sqlite3.Connection, kind: str, key: str) -> None:
        # Most deletes find nothing (a verified code clears a failure count that was
        # never set), and a read costs a fraction of a write transaction. A record
        # written between the two is as if written just after the delete.
        if conn.execute("SELECT 1 FROM stepup_records WHERE kind = ? AND key = ?", (kind, key)).fetchone():
            conn.execute("DELETE FROM stepup_records WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        """Close every thread's connection (each once the call running on it returns)."""
        self._connections.close()
        self._quick.close()
