"""The due index: which pending challenges have a workflow step due, and when.

The store has no query by time, so the index is a few shard records (kind ``due``), each
``{"e": {challenge_id: [due_at, lease_until, expires_at]}}``, changed only by the store's
atomic ``update`` of one record: memory, SQLite, Redis and Redis Cluster (where each
shard is one key of its own) all keep it as they keep any record.

A worker claims the due steps it will fire by setting their lease in the shard (one atomic
update), so two workers never fire the same one at once; a worker killed with a lease
held leaves it to expire (``worker_lease``), and the next worker takes the step. The
challenge itself is the final word: firing a step moves its ``step`` on atomically, and a
step that moved already fires nothing, so a stale entry can never send twice.

What a request can make us store stays capped: an entry lives only while its challenge
is pending, each is dropped once its challenge expires, and a shard keeps at most
:data:`CAP` entries (a challenge beyond that still fires its steps on request).
"""

from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Callable
from typing import Any

from .._models import Challenge
from ..stores import Record, Write
from ._context import Context
from ._effects import Flow, get_many, update

__all__ = ["DUE", "SHARDS", "claim", "due_entry", "due_now", "release", "schedule", "unschedule"]

logger = logging.getLogger("stepup.worker")

#: the store kind of the due index's shards.
DUE = "due"
#: shard records: more shards, fewer workers and requests contending on one record.
SHARDS = 16
#: entries a shard keeps at most.
CAP = 20000

Entries = dict[str, list[float]]


def shard_of(challenge_id: str) -> str:
    """The shard a challenge's entry lives in."""
    return f"{zlib.crc32(challenge_id.encode()) % SHARDS:02d}"


def _live(record: Record | None, now: float) -> Entries:
    """A copy of a shard's entries, without those whose challenge expired."""
    entries: dict[str, Any] = (record or {}).get("e", {})
    return {cid: list(entry) for cid, entry in entries.items() if entry[2] > now}


def _ttl(ctx: Context) -> float:
    return float(ctx.settings.challenge_lifetime + ctx.settings.challenge_retention)


def due_entry(ctx: Context, challenge: Challenge) -> tuple[list[Write], Callable[[Record | None], Record | None]]:
    """The shard a new challenge's next step is entered in (none without a workflow), and
    the change (pure): written in the step that stores the challenge, so a challenge is
    never stored without its entry. An entry whose challenge is then withdrawn (its first
    send failed) is dropped by the first worker that finds it."""
    event = challenge.next_event
    if event is None:
        return [], lambda record: record
    now, cid, entry = ctx.clock(), challenge.id, [event.at, 0.0, challenge.expires_at]

    def enter(record: Record | None) -> Record | None:
        entries = _live(record, now)
        if len(entries) >= CAP:
            logger.warning("stepup: the due index is full; challenge %s fires its steps on request only", cid)
            return record
        return {"e": {**entries, cid: list(entry)}}

    return [(DUE, shard_of(cid), _ttl(ctx))], enter


def schedule(ctx: Context, challenge: Challenge) -> Flow[None]:
    """Put the challenge's next step in the index (or take it out when none is left),
    lease cleared."""
    event, now, cid = challenge.next_event, ctx.clock(), challenge.id

    def change(record: Record | None) -> tuple[Record | None, bool]:
        entries = _live(record, now)
        if event is None:
            entries.pop(cid, None)
        elif cid in entries or len(entries) < CAP:
            entries[cid] = [event.at, 0.0, challenge.expires_at]
        else:
            return record, False
        return ({"e": entries} if entries else None), True

    if not (yield from update(ctx, DUE, shard_of(cid), change, _ttl(ctx))):
        logger.warning("stepup: the due index is full; challenge %s fires its steps on request only", cid)


def unschedule(ctx: Context, shard: str, challenge_id: str) -> Flow[None]:
    """Take a challenge out of the index (it ended, or it is gone)."""
    now = ctx.clock()

    def change(record: Record | None) -> tuple[Record | None, None]:
        entries = _live(record, now)
        entries.pop(challenge_id, None)
        return ({"e": entries} if entries else None), None

    yield from update(ctx, DUE, shard, change, _ttl(ctx))


def due_now(ctx: Context, now: float, limit: int) -> Flow[dict[str, list[str]]]:
    """Up to ``limit`` due steps nobody holds, earliest first, by shard (one read of
    every shard, in one round trip). A worker asks for more than it will take: workers
    that read at once then each find steps the others did not claim."""
    shards = [f"{i:02d}" for i in range(SHARDS)]
    records = yield from get_many(ctx, [(DUE, s) for s in shards])
    found = sorted(
        (entry[0], shard, cid)
        for shard, record in zip(shards, records, strict=True)
        for cid, entry in _live(record, now).items()
        if entry[0] <= now and entry[1] <= now
    )
    by_shard: dict[str, list[str]] = {}
    for _, shard, cid in found[:limit]:
        by_shard.setdefault(shard, []).append(cid)
    # Workers start on different shards, so two of them rarely contend for one record.
    order = list(by_shard)
    random.shuffle(order)
    return {shard: by_shard[shard] for shard in order}


def claim(ctx: Context, shard: str, ids: list[str], now: float, room: int) -> Flow[list[str]]:
    """Lease up to ``room`` of the due steps of ``ids`` still free (one atomic update of
    the shard): the ones this worker now fires."""
    until = now + ctx.settings.worker_lease

    def change(record: Record | None) -> tuple[Record | None, list[str]]:
        entries, taken = _live(record, now), list[str]()
        for cid in ids:
            entry = entries.get(cid)
            if len(taken) < room and entry is not None and entry[0] <= now and entry[1] <= now:
                entry[1] = until
                taken.append(cid)
        return ({"e": entries} if entries else None), taken

    return (yield from update(ctx, DUE, shard, change, _ttl(ctx)))


def release(ctx: Context, shard: str, ids: list[str]) -> Flow[None]:
    """Give back leases not used (a worker told to stop): another worker takes them now."""
    now = ctx.clock()

    def change(record: Record | None) -> tuple[Record | None, None]:
        entries = _live(record, now)
        for cid in ids:
            if cid in entries:
                entries[cid][1] = 0.0
        return ({"e": entries} if entries else None), None

    if ids:
        yield from update(ctx, DUE, shard, change, _ttl(ctx))
