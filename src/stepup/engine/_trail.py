"""The audit trail kept in the store: the events of each subject, newest last, queried by
subject and time.

Each subject's events live in one record of kind ``audit`` (events without a subject, of
contact verification, under ``-``), appended through ``store.update`` like every other
change: no store needs a method of its own for it. A record keeps the newest
``audit_events_per_subject`` events of the last ``audit_retention_days`` days; it expires
with its newest event's retention. Events are as the logger gets them: targets masked,
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
from ._context import Context
from ._effects import Flow, get, update
from ._keys import part

__all__ = ["AUDIT", "audit_events", "keep_events", "recorded"]

T = TypeVar("T")
#: the store kind of a subject's audit trail.
AUDIT = "audit"
#: the key of events without a subject.
_NOBODY = "-"
logger = logging.getLogger("stepup.audit")


def _key(subject: str | None) -> str:
    return _NOBODY if subject is None else "s/" + part(subject)


def recorded(ctx: Context, flow: Flow[T]) -> Flow[T]:
    """Run ``flow``, then append the events it fired to the trail (also when it raised).
    A flow inside another one's is not recorded twice: the outer one stores its events."""
    if not ctx.auditor.keep or collected() is not None:
        return (yield from flow)
    events: list[AuditEvent] = []
    try:
        with collecting(events):
            result = yield from flow
    except StepUpError:
        yield from keep_events(ctx, events)
        raise
    yield from keep_events(ctx, events)
    return result


def keep_events(ctx: Context, events: Iterable[AuditEvent]) -> Flow[None]:
    """Append ``events`` to their subjects' trails, dropping what retention and the cap
    leave out. Best effort: a store error is logged, not raised (the action happened)."""
    s = ctx.settings
    retention = s.audit_retention_days * 86400
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_subject.setdefault(_key(event.subject), []).append(event.as_dict())
    oldest = ctx.clock() - retention
    for key, new in by_subject.items():

        def append(record: dict[str, Any] | None, new: list[dict[str, Any]] = new) -> tuple[dict[str, Any], None]:
            kept = [e for e in (record or {}).get("events", []) if e["at"] >= oldest]
            return {"events": [*kept, *new][-s.audit_events_per_subject :]}, None

        try:
            yield from update(ctx, AUDIT, key, append, float(retention))
        except StepUpError as error:
            logger.warning("stepup could not store %d audit events: %s", len(new), error.message)


def audit_events(
    ctx: Context, subject: str | None, *, since: float | None = None, until: float | None = None,
    types: Iterable[str] | None = None, limit: int | None = None,
) -> Flow[list[AuditEvent]]:  # fmt: skip
    """The stored events of ``subject`` (``None``: events without a subject), oldest first.

    :param since: only events at or after this time (seconds since the epoch).
    :param until: only events before this time.
    :param types: only events of these types.
    :param limit: only the newest this many.
    """
    record = yield from get(ctx, AUDIT, _key(subject))
    wanted = None if types is None else frozenset(types)
    oldest = ctx.clock() - ctx.settings.audit_retention_days * 86400
    found = [
        AuditEvent(**e) for e in (record or {}).get("events", [])
        if e["at"] >= oldest and (since is None or e["at"] >= since) and (until is None or e["at"] < until)
        and (wanted is None or e["type"] in wanted)
    ]  # fmt: skip
    return found[-limit:] if limit else found
