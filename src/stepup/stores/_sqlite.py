"""``sqlite:///path``: the embedded default, safe with many threads and many processes.

Each thread has its own connection (see :mod:`._sqlite_connections`: none stays open after
its thread ends or the store closes). The database runs in WAL mode so readers never wait,
and every update is a ``BEGIN IMMEDIATE`` transaction: SQLite takes the write lock before
the read, so two processes updating one challenge run one after the other.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .._clock import Clock, system_clock
from .._errors import ConfigurationError, StoreUnavailable
from ._base import AfterRead, Item, ManyMutator, Mutator, Record, Write, one_record
from ._json import dumps, loads
from ._sqlite_connections import ThreadConnections, busy, restart_checkpoint, until

__all__ = ["SQLiteStore"]

T = TypeVar("T")
#: a stored record's row: its value (JSON) and when it expires.
Row = tuple[str, float | None]

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
#: write transactions between two purges of expired records (which are never read as live).
_PURGE_EVERY = 1000
#: writes between two checkpoints, made in a worker thread when the write was made on the
#: event loop (see :meth:`SQLiteStore.write_now`): a few hundred pages of WAL, where
#: SQLite's own is 1,000.
_CHECKPOINT_EVERY = 256
#: the WAL's length in pages past which a checkpoint holds the write lock (about 8 MB).
_RESTART_AT = 2048
#: how long such a checkpoint tries for the write lock, and the unfinished checkpoints in a
#: row that are made again after the very next write.
_RESTART_WAIT, _CATCH_UP = 0.5, 8


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
        #: connections that never wait for a lock nor checkpoint, for :meth:`read_now`
        #: and every write (:meth:`_write` waits for the lock itself).
        self._quick = ThreadConnections(self.path, 0.0, checkpoint=False)
        self._timeout = timeout
        #: the turn this process's threads take to write (see :meth:`_write`).
        self._turn = threading.RLock()
        #: write transactions, and their count at the last purge of expired records.
        self._writes = self._purged_at = 0
        #: writes made, counted for the checkpoint every ``_CHECKPOINT_EVERY``, and the
        #: unfinished checkpoints in a row (while there are, the next write makes one).
        self._quick_writes = self._caught_up = 0
        #: the WAL's length in pages at the last checkpoint.
        self._wal_frames = 0
        self._restart_wal = self._closed = False
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
        return loads(row[0])  # type: ignore[no-any-return]

    def update(self, kind: str, key: str, fn: Mutator[T], ttl: float | None = None) -> T:
        """See :meth:`stepup.stores.Store.update` (an ``update_many`` of one record)."""
        return self.update_many([(kind, key, ttl)], one_record(fn))

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
        thread then reports as it always does). Writes do the same: :meth:`write_now`.
        """
        try:
            with self._quick.using() as conn:
                return self._read(conn, items, self._clock())
        except sqlite3.Error:
            return None

    def update_many(self, items: Sequence[Write], fn: ManyMutator[T]) -> T:
        """See :meth:`stepup.stores.Store.update_many`: one write transaction."""
        return self._write("update_many", items, fn)  # type: ignore[no-any-return]

    def update_after(self, reads: Sequence[Item], after: AfterRead[T]) -> T:
        """See :func:`stepup.stores.update_after`: the records read and those written in one
        write transaction, one call (a read and an ``update_many`` were two, and on the
        async engine two hops to a worker thread)."""
        return self._write("update_after", reads, after)  # type: ignore[no-any-return]

    def write_now(self, method: str, *args: Any) -> tuple[Any, Callable[[], None] | None] | None:
        """``self.<method>(*args)`` (``update``, ``update_many``, ``update_after`` or
        ``delete``) written without waiting: ``(result, chore)``, where ``chore`` is
        ``None`` or the housekeeping due now, to run off the event loop (the purge of
        expired records every 1,000 writes, a :meth:`checkpoint` every 256 writes); or
        ``None`` when the write would wait.

        The async engine writes on its event loop this way (a write transaction costs less
        than a hop to a worker thread and back) and makes the call in a worker thread only
        when this answers ``None``: another thread or process holds the write lock (the
        connection here never waits for it; the thread's waits up to the store's timeout,
        then fails closed), or any other SQLite error, which the call in the thread reports
        as it always does (the transaction here was rolled back; a step's function may be
        called twice). The connection here never checkpoints: the loop does not wait for
        the disk flush that copies the WAL back into the database.
        """
        if self._restart_wal:
            # After a checkpoint, the next write starts the WAL again from its beginning and
            # flushes its header: made in the thread, so the loop does not wait for that.
            self._restart_wal = False
            return None
        try:
            return self._attempt(method, args)
        except sqlite3.Error:
            return None

    def _attempt(self, method: str, args: tuple[Any, ...]) -> tuple[Any, Callable[[], None] | None]:
        """One try at ``self.<method>(*args)`` on this thread's connection that never waits:
        ``(result, chore)`` as :meth:`write_now` gives them.

        :raises sqlite3.Error: as SQLite does, the write rolled back (busy, among others).
        """
        with self._quick.using() as conn:
            result = _WRITES[method](self, conn, *args)
        self._quick_writes += 1
        checkpoint = self._caught_up > 0 or self._quick_writes % _CHECKPOINT_EVERY == 0
        purge = self._purge_due()
        return result, (functools.partial(self._housekeeping, purge, checkpoint) if purge or checkpoint else None)

    def _housekeeping(self, purge: bool, checkpoint: bool) -> None:
        """The purge and the checkpoint, each in this process's turn to write: no thread of
        it writes meanwhile (nor the event loop, whose writes wait for a chore as for a
        write in a thread), so the checkpoint can catch up with the WAL."""
        if self._closed:  # a chore that ran late: no connection opened after close()
            return
        if not self._turn.acquire(timeout=self._timeout):
            return  # the next is due in 256 writes
        try:
            if self._closed:  # closed while this waited for its turn
                return
            if purge:
                try:  # on a connection that does not wait: a writer busy now leaves it to the next
                    with self._quick.using() as conn:
                        conn.execute("DELETE FROM stepup_records WHERE expires_at <= ?", (self._clock(),))
                except sqlite3.Error:
                    pass  # the next purge takes them; an expired record is never read as live
            if checkpoint:
                self.checkpoint()
        finally:
            self._turn.release()

    def _purge_due(self) -> bool:
        """Whether expired records are due to be deleted: once every ``_PURGE_EVERY`` write
        transactions (a count that threads may race on: a purge more or less)."""
        if self._writes - self._purged_at < _PURGE_EVERY:
            return False
        self._purged_at = self._writes
        return True

    def checkpoint(self) -> None:
        """Copy the WAL's transactions back into the database, as far as readers allow,
        without taking the write lock (``PRAGMA wal_checkpoint(PASSIVE)``): once all are
        copied, the next write starts the WAL from its beginning again. One that could not
        copy them all (another process wrote meanwhile, or a reader still needs them) or
        failed is made again after the next write, up to ``_CATCH_UP`` times in a row. Past
        ``_RESTART_AT`` pages the checkpoint copies it holding the write lock
        (``RESTART``), so the WAL stays within some tens of megabytes however busy the
        file; a reader that would have to finish first fails it at once, never a wait."""
        if self._closed:
            return
        try:
            if self._wal_frames >= _RESTART_AT:  # long anyway: no passive one copied it all
                with self._quick.using() as conn:
                    frames, copied = restart_checkpoint(conn, _RESTART_WAIT)
            else:
                with self._connections.using() as conn:
                    _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            frames = copied = -1
        if frames >= 0:  # -1: it could not run (no write lock within _RESTART_WAIT)
            self._wal_frames = frames
        if frames < 0 or frames != copied:
            # Again after the next write, up to _CATCH_UP times in a row, then at the usual
            # pace: a reader that holds an old snapshot for long keeps every one unfinished.
            self._caught_up = self._caught_up + 1 if self._caught_up < _CATCH_UP else 0
            return
        self._caught_up = 0
        self._restart_wal = True

    def _write(self, method: str, *args: Any) -> Any:
        """``self.<method>(*args)``, waiting up to the store's timeout for the write lock,
        then the housekeeping it leaves, if any.

        This process's threads take turns on a lock of their own, each woken the moment
        the one before has committed. SQLite's own wait (its busy handler) polls at growing
        intervals, up to 100 ms a time, while the lock may have been free for most of them:
        under eight clients, one write in a hundred waited over 40 ms for transactions that
        held the lock for 0.2 ms. Against another process's writer, the write tries again
        after a pause that grows from 0.2 ms to 2 ms.
        """
        deadline = time.monotonic() + self._timeout
        locked: sqlite3.Error = sqlite3.OperationalError("database is locked")
        if not self._turn.acquire(timeout=self._timeout):
            raise self._unavailable(locked)

        def attempt() -> tuple[Any, Callable[[], None] | None] | None:
            nonlocal locked
            try:
                return self._attempt(method, args)
            except sqlite3.Error as e:
                if not busy(e):
                    raise self._unavailable(e) from e
                locked = e
                return None

        try:
            if (done := until(deadline, attempt)) is None:
                raise self._unavailable(locked)
            result, chore = done
            if chore is not None:  # in this turn, so the checkpoint catches up with the WAL
                chore()
        finally:
            self._turn.release()
        return result

    def _update_many(
        self,
        conn: sqlite3.Connection,
        step: Callable[[float, dict[Item, Row | None]], tuple[Sequence[Write], ManyMutator[T]]],
    ) -> T:
        """One write transaction: the records of what ``step`` asks for (given the time, and
        a dict where it leaves the rows it read itself), changed by the function it gives."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            rows: dict[Item, Row | None] = {}  # None: read, and not there
            items, fn = step(now, rows)
            # a row the step read already is not read again (a step writes most of what it read)
            missing = [(kind, key) for kind, key, _ in items if (kind, key) not in rows]
            rows.update(self._rows(conn, missing) if missing else {})
            stored = [rows.get((kind, key)) for kind, key, _ in items]
            live = [row is not None and (row[1] is None or row[1] > now) for row in stored]
            new, result = fn([loads(row[0]) if ok and row else None for row, ok in zip(stored, live, strict=True)])
            for (kind, key, ttl), row, ok, record in zip(items, stored, live, new, strict=True):
                if record is None:
                    if row is not None:
                        conn.execute("DELETE FROM stepup_records WHERE kind = ? AND key = ?", (kind, key))
                    continue
                expires_at = now + ttl if ttl is not None else (row[1] if ok and row else None)
                conn.execute(
                    "INSERT OR REPLACE INTO stepup_records (kind, key, value, expires_at) VALUES (?, ?, ?, ?)",
                    (kind, key, dumps(record), expires_at),
                )
            self._writes += 1
            conn.execute("COMMIT")
            return result
        except sqlite3.Error:
            if conn.in_transaction:  # SQLite may have rolled back already (a full disk)
                conn.execute("ROLLBACK")
            raise
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _read(
        self, conn: sqlite3.Connection, items: Sequence[Item], now: float, rows: dict[Item, Row | None] | None = None
    ) -> list[Record | None]:
        """The live records of ``items`` on ``conn``, in order; their rows (``None`` for
        those not there) added to ``rows``, when given."""
        by_item = self._rows(conn, items) if items else {}
        found = [by_item.get(item) for item in items]
        if rows is not None:
            rows.update(zip(items, found, strict=True))
        return [loads(row[0]) if row and (row[1] is None or row[1] > now) else None for row in found]

    @staticmethod
    def _rows(conn: sqlite3.Connection, items: Sequence[Item]) -> dict[Item, Row]:
        """The stored ``(value, expires_at)`` of each of ``items`` that has a row, in one query."""
        # OR of key pairs, not a row-value IN, which SQLite answers with a full scan.
        where = " OR ".join(["(kind = ? AND key = ?)"] * len(items))
        query = f"SELECT kind, key, value, expires_at FROM stepup_records WHERE {where}"
        args: list[Any] = [part for item in items for part in item]
        return {(kind, key): (value, expires_at) for kind, key, value, expires_at in conn.execute(query, args)}

    def delete(self, kind: str, key: str) -> None:
        """See :meth:`stepup.stores.Store.delete`."""
        self._write("delete", kind, key)

    @staticmethod
    def _delete(conn: sqlite3.Connection, kind: str, key: str) -> None:
        # Most deletes find nothing (a verified code clears a failure count that was
        # never set), and a read costs a fraction of a write transaction. A record
        # written between the two is as if written just after the delete.
        if conn.execute("SELECT 1 FROM stepup_records WHERE kind = ? AND key = ?", (kind, key)).fetchone():
            conn.execute("DELETE FROM stepup_records WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        """Close every thread's connection (each once the call running on it returns)."""
        self._closed = True
        self._connections.close()
        self._quick.close()


def _update(
    store: SQLiteStore, conn: sqlite3.Connection, kind: str, key: str, fn: Mutator[T], ttl: float | None = None
) -> T:
    return store._update_many(conn, lambda now, rows: ([(kind, key, ttl)], one_record(fn)))


def _update_many(store: SQLiteStore, conn: sqlite3.Connection, items: Sequence[Write], fn: ManyMutator[T]) -> T:
    return store._update_many(conn, lambda now, rows: (items, fn)) if items else fn([])[1]


def _update_after(store: SQLiteStore, conn: sqlite3.Connection, reads: Sequence[Item], after: AfterRead[T]) -> T:
    return store._update_many(conn, lambda now, rows: after(store._read(conn, reads, now, rows)))


#: the write transactions :meth:`SQLiteStore._write` and :meth:`SQLiteStore.write_now` run.
_WRITES: dict[str, Callable[..., Any]] = {
    "update": _update,
    "update_many": _update_many,
    "update_after": _update_after,
    "delete": lambda store, conn, kind, key: store._delete(conn, kind, key),
}
