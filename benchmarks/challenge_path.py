"""3. Challenge path: start + verify per second on one core, per store, as pending
challenges pile up, and the bytes each pending challenge takes.

For each store, four stores of its kind hold 1,000, 10,000, 100,000 and 1,000,000 pending
challenges, seeded with copies of a real challenge's record, each under its own id and
with the expiry the engine gives it (in bulk: exactly the rows or keys the store's own
update writes). Then rounds of start + verify (an SMS code, through
:class:`stepup.Engine`, on one thread) run on the four in turn, so any difference between
them is the number of pending challenges, not the moment. Each start is for a user bound
to a number of their own, from a pool of users that were warmed up first (a real app's
users come back).

Limits are the defaults, but for the per-country and per-prefix SMS limits, which every
benchmark SMS shares (one country, one prefix): they are set to 100 million a day.
"""

from __future__ import annotations

import dataclasses
import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import stepup
from stepup._crypto import new_id

from ._harness import REFERENCE, Samples, interleave, reference

__all__ = ["LEVELS", "Fill", "run_store"]

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
#: pending challenges in each of a store's four instances.
LEVELS = (1_000, 10_000, 100_000, 1_000_000)
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_USES_PER_USER = 4  # and one warm-up: the default limit of 5 new challenges per user per 15 minutes


class _Outbox:
    """A sender that keeps only the newest code."""

    def __init__(self) -> None:
        self.code = ""

    def send(self, message: stepup.Message) -> None:
        match = _CODE.search(message.body)
        self.code = match.group(1) if match else ""


@dataclasses.dataclass
class Fill:
    """One store instance and what seeding it measured."""

    pending: int
    engine: stepup.Engine
    outbox: _Outbox
    bytes_per_pending: float | None = None
    key_bytes: int | None = None
    seconds: float = 0.0


def _engine(url: str, **settings: Any) -> tuple[stepup.Engine, _Outbox]:
    outbox = _Outbox()
    engine = stepup.Engine(
        secret_key=SECRET, store_url=url, sms=outbox, email=outbox,
        test_number_prefixes=("+4477",),
        limit_sms_per_country="100000000/day", limit_sms_per_prefix="100000000/day",
        # The global hourly SMS caps would stop a run of thousands of codes an hour.
        limit_sms_total="100000000/hour", limit_bound_sms_total="100000000/hour", **settings,
    )  # fmt: skip
    return engine, outbox


class _Users:
    """A pool of users, each bound to a number of their own, each used a few times."""

    def __init__(self, engine: stepup.Engine, base: int, count: int) -> None:
        self.engine = engine
        self.names = [f"u{base + i}" for i in range(count)]
        for i, name in enumerate(self.names):
            engine.import_binding(name, "sms", f"+4477{base + i:08d}")
        self._next = 0

    def take(self) -> str:
        name = self.names[(self._next // _USES_PER_USER) % len(self.names)]
        self._next += 1
        return name


def _start_verify(fill: Fill, users: _Users) -> Callable[[int], None]:
    engine, outbox = fill.engine, fill.outbox

    def run(n: int) -> None:
        for _ in range(n):
            subject = users.take()
            challenge = engine.start(subject, "sms", session="bench-login-nonce")
            engine.verify(challenge.id, outbox.code, subject=subject, session="bench-login-nonce")

    return run


def _template(engine: stepup.Engine, outbox: _Outbox) -> dict[str, Any]:
    """The record of a real pending challenge, to copy."""
    engine.import_binding("template-user", "sms", "+447799999999")
    challenge = engine.start("template-user", "sms", session="bench-login-nonce")
    record = engine.store.get("challenge", challenge.id)
    if record is None:
        raise RuntimeError("the template challenge was not stored")
    return record


def _seed(
    fill: Fill, template: dict[str, Any], count: int, bulk: Callable[[list[tuple[str, dict[str, Any]]], float], None]
) -> None:
    ttl = fill.engine.settings.challenge_lifetime + fill.engine.settings.challenge_retention
    chunk: list[tuple[str, dict[str, Any]]] = []
    for _ in range(count):
        cid = new_id()
        chunk.append((cid, {**template, "id": cid}))
        if len(chunk) == 10_000:
            bulk(chunk, ttl)
            chunk = []
    if chunk:
        bulk(chunk, ttl)


def _store_writes(store: Any) -> Callable[[list[tuple[str, dict[str, Any]]], float], None]:
    """Seeding through the store's own ``update``, one record at a time."""

    def bulk(records: list[tuple[str, dict[str, Any]]], ttl: float) -> None:
        for cid, record in records:
            store.update("challenge", cid, lambda _, r=record: (r, None), ttl)

    return bulk


def _sqlite_transactions(store: Any) -> Callable[[list[tuple[str, dict[str, Any]]], float], None]:
    """Seeding SQLite in one transaction per chunk, of exactly the rows the store's update writes."""
    from stepup.stores._json import dumps

    def bulk(records: list[tuple[str, dict[str, Any]]], ttl: float) -> None:
        expires_at = store._clock() + ttl
        with store._connections.using() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO stepup_records (kind, key, value, expires_at) VALUES ('challenge', ?, ?, ?)",
                [(cid, dumps(record), expires_at) for cid, record in records],
            )
            conn.execute("COMMIT")

    return bulk


def _redis_pipeline(store: Any) -> Callable[[list[tuple[str, dict[str, Any]]], float], None]:
    """Seeding Redis in pipelines of SETs of exactly what the store's update writes."""

    def bulk(records: list[tuple[str, dict[str, Any]]], ttl: float) -> None:
        pipe = store._client.pipeline(transaction=False)
        for cid, record in records:
            # the script's arguments for one new record: expected, value, expiry in ms
            args, _ = store._plan([None], lambda _, r=record: ([r], None), [ttl], check=False)
            pipe.set(store._name("challenge", cid), args[1], px=int(args[2]))
        pipe.execute()

    return bulk


def run_store(
    kind: str,
    url_for: Callable[[int], str],
    levels: tuple[int, ...],
    *,
    rounds: int,
    batch: int,
    redis_info: Callable[[int], int] | None = None,
    key_bytes: Callable[[Any, str], int] | None = None,
) -> tuple[list[Fill], Samples]:
    """Seed one store instance per level, then time start + verify on all of them, interleaved.

    :param kind: ``memory``, ``sqlite`` or ``redis``.
    :param url_for: the store URL of instance ``i``.
    :param redis_info: for Redis: ``db -> used_memory`` of the server, to measure bytes.
    :param key_bytes: for Redis: ``(store, challenge id) -> MEMORY USAGE`` of its key.
    """
    fills: list[Fill] = []
    cases: dict[str, Callable[[int], None]] = {}
    for i, pending in enumerate(levels):
        engine, outbox = _engine(url_for(i))
        fill = Fill(pending, engine, outbox)
        template = _template(engine, outbox)
        users = _Users(engine, base=i * 100_000, count=(rounds + 1) * batch // _USES_PER_USER + 10)
        # Warm-up: every user once (their number's region and mask get cached, as in a
        # running app), and the engine's first calls.
        for name in users.names:
            challenge = engine.start(name, "sms", session="bench-login-nonce")
            engine.verify(challenge.id, outbox.code, subject=name, session="bench-login-nonce")
        bulk = {"redis": _redis_pipeline, "sqlite": _sqlite_transactions}.get(kind, _store_writes)(engine.store)
        started = time.perf_counter()
        if kind == "memory":
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            _seed(fill, template, pending, bulk)
            fill.bytes_per_pending = (tracemalloc.get_traced_memory()[0] - before) / pending
            tracemalloc.stop()
        elif kind == "redis" and redis_info is not None:
            before = redis_info(i)
            _seed(fill, template, pending, bulk)
            fill.bytes_per_pending = (redis_info(i) - before) / pending
        else:
            _seed(fill, template, pending, bulk)
        fill.seconds = time.perf_counter() - started
        if key_bytes is not None:
            fill.key_bytes = key_bytes(engine.store, template["id"])
        fills.append(fill)
        cases[f"{pending:,} pending"] = _start_verify(fill, users)
    cases[REFERENCE] = reference
    samples = interleave(cases, rounds=rounds, batch=batch, clock=time.perf_counter)
    return fills, samples


def sqlite_url(folder: Path) -> Callable[[int], str]:
    """``sqlite:///folder/bench-i.sqlite3``, fresh."""

    def url(i: int) -> str:
        path = folder / f"bench-{i}.sqlite3"
        for p in folder.glob(f"bench-{i}.sqlite3*"):
            p.unlink()
        return f"sqlite:///{path}"

    return url
