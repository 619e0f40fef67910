"""The audit trail kept in the store: the events of each subject, newest last, queried by
subject and time.

Each subject's events live in records of kind ``audit`` (events without a subject, of
contact verification, under ``-``): a head holding the newest events, and the sealed
chunks of ``_CHUNK`` events before them, appended through ``store.update`` like every other change, so no store
needs a method of its own for it and an append rewrites one small record. A trail keeps the
newest ``audit_events_per_subject`` events of the last ``audit_retention_days`` days; each
record expires with the retention after its last write. Events are as the logger gets them: targets masked,
never a code or a secret.

A flow run by an engine (:func:`recorded`) keeps the events it fires and appends them
when it ends, whether it returned or raised (a wrong code's ``failed`` event is kept with
the error it raised). A store that cannot take them loses them from the trail only: the
logger and the hooks had them already.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from .._audit import collected, collecting
from .._errors import StepUpError
from .._models import AuditEvent
from ..stores import ManyMutator, Record, Write, one_record
from ._context import Context
from ._effects import Flow, get, get_many, update, update_after
from ._keys import part

__all__ = ["AUDIT", "audit_events", "keep_events", "recorded"]

T = TypeVar("T")
#: the store kind of a subject's audit trail.
AUDIT = "audit"
#: the key of events without a subject.
_NOBODY = "-"
#: events a chunk of a trail holds (a write rewrites one chunk, never the whole trail). Each
#: flow's append rewrites the head, so a small head is a cheap append: at 25 a head carried
#: some 3.5 KB on average, written, and on Redis also sent as the value the write expects.
_CHUNK = 10
#: heads whose length a context remembers before it starts again (a bound on its memory).
_HEADS_KNOWN = 4096
logger = logging.getLogger("stepup.audit")


def _key(subject: str | None) -> str:
    return _NOBODY if subject is None else "s/" + part(subject)


def recorded(ctx: Context, flow: Flow[T]) -> Flow[T]:
    """Run ``flow``, then append the events it fired to the trail (also when it raised).
    A flow inside another one's is not recorded twice: the outer one stores its events."""
    if not ctx.auditor.keep or collected() is not None:
        return (yield from flow)
    events: list[dict[str, Any]] = []
    try:
        with collecting(events):
            result = yield from flow
    except StepUpError:
        yield from keep_events(ctx, events)
        raise
    yield from keep_events(ctx, events)
    return result


def keep_events(ctx: Context, events: Iterable[dict[str, Any]]) -> Flow[None]:
    """Append ``events`` (as stored: :func:`stepup._audit.stored_form`) to their subjects'
    trails. Best effort: a store error is logged, not raised (the action happened, and the
    logger and hooks had its events)."""
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_subject.setdefault(_key(event.get("subject")), []).append(event)
    for key, new in by_subject.items():
        try:
            yield from _append(ctx, key, new)
        except StepUpError as error:
            logger.warning("stepup could not store %d audit events: %s", len(new), error.message)


def _append(ctx: Context, key: str, new: list[dict[str, Any]]) -> Flow[None]:
    """Append to the subject's head record (the newest events, up to ``_CHUNK``): one small
    write. A full head is sealed as chunk ``n``, and the chunk that falls out of the cap is
    dropped, in the same step: the head never names a chunk that was not written.

    An append this process knows will fit (by the head's length it last wrote) updates the
    head alone, one record. Another process may have filled it meanwhile: the head then
    holds a few events over ``_CHUNK`` until its next append, which seals them all."""
    ttl = float(ctx.settings.audit_retention_days * 86400)
    heads = ctx.trail_heads

    def add(head: Record | None) -> tuple[Record, int]:
        chunk, events, fresh = _next(head, new)
        return {"chunk": chunk, "events": [*events, *fresh]}, len(events) + len(fresh)

    def after(records: list[Record | None]) -> tuple[list[Write], ManyMutator[int]]:
        chunk, events, fresh = _next(records[0], new)
        if not _full(events, fresh):
            return [(AUDIT, key, ttl)], one_record(add)
        # The chunk first and the one past the cap last: a store that writes them one at a
        # time and stops halfway leaves a head that still names its own chunk.
        writes: list[Write] = [(AUDIT, f"{key}/{chunk}", ttl), (AUDIT, key, ttl)]
        if (dropped := chunk - _sealed(ctx, key)) >= 0:
            writes.append((AUDIT, f"{key}/{dropped}", None))

        def seal(stored: list[Record | None]) -> tuple[list[Record | None], int]:
            # On a store that reads and writes in two steps, the head as it is now: another
            # process's append since the read is sealed with the rest, never written over.
            now, events, fresh = _next(stored[1], new)
            if now != chunk or not _full(events, fresh):
                raise _Moved  # another process sealed it meanwhile: the append starts again
            sealed: list[Record | None] = [{"events": events}, {"chunk": chunk + 1, "events": fresh}, None]
            return sealed[: len(writes)], len(fresh)

        return writes, seal

    known = heads.get(key)
    for _ in range(_TRIES):
        try:
            if known is not None and known + len(new) <= _CHUNK:
                length = yield from update(ctx, AUDIT, key, add, ttl)
            else:
                length = yield from update_after(ctx, [(AUDIT, key)], after)
            break
        except _Moved:
            known = None
    else:  # as a store error is: the logger and the hooks had the events
        logger.warning("stepup could not store %d audit events: other processes kept sealing the trail", len(new))
        return
    if len(heads) >= _HEADS_KNOWN and key not in heads:
        heads.clear()
    heads[key] = length


class _Moved(Exception):
    """The head a seal was planned on was sealed by another process before the write."""


#: tries of an append whose seal another process got to first.
_TRIES = 3


def _next(head: Record | None, new: list[dict[str, Any]]) -> tuple[int, list[Any], list[dict[str, Any]]]:
    """The head's chunk number, its events (repeats in ``new`` counted on them) and the
    events of ``new`` to add."""
    chunk, events = int((head or {}).get("chunk", 0)), list((head or {}).get("events", []))
    return chunk, events, _coalesce(events, new)


def _full(events: list[Any], fresh: list[dict[str, Any]]) -> bool:
    """Whether adding ``fresh`` to a head holding ``events`` seals it first."""
    return bool(fresh and events and len(events) + len(fresh) > _CHUNK)


#: how far back, and over how many of the newest events, a repeat is counted, not stored.
_REPEAT_SECONDS = 300
_REPEAT_WINDOW = 5


#: what makes two stored events the same, most often different first.
_SAME = ("type", "challenge_id", "subject", "method", "target", "purpose", "actor")
#: a refused start names the challenge it would have made, new each time: no id of use.
_SAME_REFUSED = tuple(f for f in _SAME if f != "challenge_id")


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two stored events say the same thing (their times, request and count aside)."""
    for f in _SAME_REFUSED if a.get("type") == "rate_limited" else _SAME:
        if a.get(f) != b.get(f):
            return False
    return _bare(a.get("detail") or {}) == _bare(b.get("detail") or {})


def _bare(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k not in {"repeats", "last_at"}}


def _coalesce(events: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of ``new`` to append: one that repeats a recent event of the head (a
    refusal answered again and again: a request can make a ``rate_limited`` event each
    time, at no cost) is counted on that event instead (``repeats``, ``last_at``), so a
    flood of refusals cannot push a subject's other events out of the trail. Changes
    ``events`` in place."""
    kept = []
    for event in new:
        at, kind, twin = event["at"], event["type"], None
        for e in reversed(events[-_REPEAT_WINDOW:]):
            # The type first, here: most recent events are of another type (a start's
            # `issued` after a verify's `step_up_passed`), and a call costs more than the test.
            if e["type"] == kind and at - e["at"] <= _REPEAT_SECONDS and _same(e, event):
                twin = e
                break
        if twin is None:
            kept.append(event)
            continue
        i = events.index(twin)
        detail = {**(twin.get("detail") or {}), "repeats": int((twin.get("detail") or {}).get("repeats", 0)) + 1}
        events[i] = {**twin, "detail": {**detail, "last_at": event["at"]}}
    return kept


def _kept(ctx: Context, key: str) -> int:
    """Events a trail keeps: ``audit_events_per_subject``, or for the events without a
    subject (contact verification, which anyone may start) ``audit_events_without_subject``,
    so that a flood of strangers' requests cannot push the record of the others out soon."""
    s = ctx.settings
    return s.audit_events_without_subject if key == _NOBODY else s.audit_events_per_subject


def _sealed(ctx: Context, key: str) -> int:
    """Sealed chunks a trail keeps besides its head: enough for :func:`_kept`."""
    return -(-_kept(ctx, key) // _CHUNK)


def audit_events(
    ctx: Context, subject: str | None, *, since: float | None = None, until: float | None = None,
    types: Iterable[str] | None = None, limit: int | None = None,
) -> Flow[list[AuditEvent]]:  # fmt: skip
    """The stored events of ``subject`` (``None``: events without a subject), oldest first:
    the newest ``audit_events_per_subject`` (``audit_events_without_subject``) of the last
    ``audit_retention_days``.

    :param since: only events at or after this time (seconds since the epoch).
    :param until: only events before this time.
    :param types: only events of these types.
    :param limit: only the newest this many.
    """
    key = _key(subject)
    head = yield from get(ctx, AUDIT, key)
    if head is None:
        return []
    last = int(head.get("chunk", 0))
    items = [(AUDIT, f"{key}/{n}") for n in range(max(0, last - _sealed(ctx, key)), last)]
    chunks = (yield from get_many(ctx, items)) if items else []
    stored = [e for record in [*chunks, head] if record for e in record.get("events", [])]
    wanted = None if types is None else frozenset(types)
    oldest = ctx.clock() - ctx.settings.audit_retention_days * 86400
    found = [
        AuditEvent(**e) for e in stored[-_kept(ctx, key) :]
        if e["at"] >= oldest and (since is None or e["at"] >= since) and (until is None or e["at"] < until)
        and (wanted is None or e["type"] in wanted)
    ]  # fmt: skip
    return found[-limit:] if limit else found
