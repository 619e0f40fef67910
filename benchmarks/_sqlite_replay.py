"""SQLite's time for what the SQLite store asks of it: the floor of sqlite:///.

The statements a store makes over a batch of operations (each with its parameters, as the
store's connections were handed them, checkpoints included) are recorded once, on a copy of
the store's file taken just before. Replaying them on that copy through a bare connection
(WAL, ``synchronous=NORMAL``, no checkpoint but those recorded, as the store's own
connections are set) times SQLite and Python's ``sqlite3`` driver alone: no engine, no
store code, no JSON. The copy has the records the store had, so the replay's reads and
writes land on a B-tree of the same size; replayed again, its writes rewrite rows that are
there already, as most of the store's do. The batch holds the checkpoints the store made
in it (one every 256 write transactions, so one or two in a batch of 100 start + verify),
each a disk flush: about a quarter of the replay's time.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["Recorded", "record"]

#: one statement: its SQL and its parameters.
Statement = tuple[str, tuple[Any, ...]]


class _Recording:
    """A connection that notes each statement before it runs it."""

    def __init__(self, conn: sqlite3.Connection, into: list[Statement]) -> None:
        self._conn = conn
        self._into = into

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._into.append((sql, tuple(params)))
        return self._conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class Recorded:
    """The statements of ``len(ops)`` operations, and a bare connection to replay them on.

    :ivar ops: each operation's statements, in order.
    """

    def __init__(self, ops: list[list[Statement]], path: Path) -> None:
        self.ops = ops
        self._db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=0"):
            self._db.execute(f"PRAGMA {pragma}")
        self._next = 0

    @property
    def per_op(self) -> float:
        """Statements per operation."""
        return sum(len(op) for op in self.ops) / len(self.ops)

    def replay(self, n: int) -> None:
        """Run the statements of ``n`` operations (the recorded ones in turn, round and round),
        reading every row a query gives, as the store does."""
        db, ops = self._db, self.ops
        for _ in range(n):
            for sql, params in ops[self._next % len(ops)]:
                db.execute(sql, params).fetchall()
            self._next += 1

    def close(self) -> None:
        self._db.close()


def record(store: Any, operation: Callable[[], None], count: int, copy: Path) -> Recorded:
    """Copy ``store``'s file to ``copy``, then run ``operation`` ``count`` times, noting the
    statements each makes on the store's connections.

    :param store: a :class:`stepup.stores.SQLiteStore`.
    """
    pools = [store._connections, store._quick]  # noqa: SLF001
    with pools[0].using() as conn:
        target = sqlite3.connect(copy)
        conn.backup(target)  # the file and what its WAL holds, as the store sees it now
        target.close()
    current: list[Statement] = []

    def recording(pool: Any) -> Callable[[], Any]:
        using = pool.using

        @contextlib.contextmanager
        def noted() -> Iterator[Any]:
            with using() as conn:
                yield _Recording(conn, current)

        return noted

    for pool in pools:
        pool.using = recording(pool)
    ops: list[list[Statement]] = []
    try:
        for _ in range(count):
            operation()
            ops.append(list(current))
            current.clear()
    finally:
        for pool in pools:
            del pool.using  # the class's own method again
    return Recorded(ops, copy)
