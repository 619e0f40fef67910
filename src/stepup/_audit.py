"""Audit events: to the ``stepup.audit`` logger, to the app's hooks, and to the trail the
store keeps (:mod:`stepup.engine._trail`).

Events carry masked targets only, never a code or a secret; a hook that raises is logged
and does not break the flow that fired the event. An event fired while a flow runs under
:func:`collecting` is also kept in that flow's list, which the engine appends to the store
when the flow ends; an event fired while the web layer handles a request carries the
request's context (:func:`request_context`): client address, user agent, app and route.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ._models import AuditEvent

__all__ = ["Auditor", "collected", "collecting", "current_request", "request_context", "stored_form"]

logger = logging.getLogger("stepup.audit")
_WARNINGS = frozenset(
    {"failed", "exhausted", "locked", "rate_limited", "delivery_failed", "login_refused", "passkey_counter_went_back"}
)
#: characters of a user agent an event keeps.
_AGENT_CHARS = 200

#: an event's fields after its type and time, in the order :meth:`AuditEvent.as_dict` gives them.
_FIELDS = tuple(f.name for f in dataclasses.fields(AuditEvent))[2:]
_KNOWN = frozenset(_FIELDS)
#: the fields a stored event keeps a copy of: the dicts (the others are strings).
_DICTS = frozenset(f.name for f in dataclasses.fields(AuditEvent) if f.default_factory is dict)

#: the events of the flow running now, as stored (:func:`stored_form`), to be stored when
#: it ends (``None``: not kept).
_COLLECTED: ContextVar[list[dict[str, Any]] | None] = ContextVar("stepup_audit_collected", default=None)
#: the request the web layer is handling now.
_REQUEST: ContextVar[dict[str, str] | None] = ContextVar("stepup_audit_request", default=None)


def collected() -> list[dict[str, Any]] | None:
    """The list the running flow's events are kept in, or ``None`` outside such a flow."""
    return _COLLECTED.get()


def stored_form(type_: str, at: float, fields: dict[str, Any]) -> dict[str, Any]:
    """The event ``AuditEvent(type_, at, **fields)`` as the trail stores it: its empty
    fields left out (read back as their defaults), so a trail's records are about a third
    smaller. Built without the event itself, which only the logger and the hooks need.

    :raises TypeError: for a name that is not a field of :class:`AuditEvent`.
    """
    if not fields.keys() <= _KNOWN:
        raise TypeError(f"AuditEvent has no field {sorted(fields.keys() - _KNOWN)}")
    stored: dict[str, Any] = {"type": type_, "at": at}
    for name in _FIELDS:
        value = fields.get(name)
        if value is not None and value != {}:
            stored[name] = dict(value) if name in _DICTS else value
    return stored


class collecting:
    """Keep the events fired inside in ``events``. A class, not a ``contextmanager``
    generator: every flow an engine runs enters one, and a generator's set-up costs
    several times the two calls it wraps."""

    __slots__ = ("_events", "_token")

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    def __enter__(self) -> None:
        self._token = _COLLECTED.set(self._events)

    def __exit__(self, *exc: object) -> None:
        _COLLECTED.reset(self._token)


@contextmanager
def request_context(client: str | None, user_agent: str | None, app: str | None, route: str | None) -> Iterator[None]:
    """Give every event fired inside the request's context (the parts that are known)."""
    # Each part is cut: a path is as long as the server lets it be, and the trail keeps these.
    parts = {
        name: (value or "")[:_AGENT_CHARS] or None
        for name, value in (("client", client), ("user_agent", user_agent), ("app", app), ("route", route))
    }
    token = _REQUEST.set({k: v for k, v in parts.items() if v})
    try:
        yield
    finally:
        _REQUEST.reset(token)


def current_request() -> dict[str, str]:
    """The context of the request being handled (empty outside one)."""
    return dict(_REQUEST.get() or {})


class Auditor:
    """Hands each event to the logger, the hooks and the running flow's trail.

    :param hooks: callables taking an :class:`AuditEvent`.
    :param keep: whether the trail is stored (``audit_retention_days`` above 0).
    """

    def __init__(self, hooks: Iterable[Callable[[AuditEvent], None]] = (), *, keep: bool = False) -> None:
        self.hooks = list(hooks)
        self.keep = keep

    def wants(self, type_: str) -> bool:
        """Whether an event of this type would go anywhere: to the trail, to a hook, or to
        the logger at its level. Events are built on the challenge path only when one would."""
        if self.hooks or (self.keep and _COLLECTED.get() is not None):
            return True
        return logger.isEnabledFor(logging.WARNING if type_ in _WARNINGS else logging.INFO)

    def emit(self, type_: str, at: float, fields: dict[str, Any]) -> None:
        """Record the event ``AuditEvent(type_, at, **fields)``: built only for the logger
        and the hooks; the trail keeps its stored form (:func:`stored_form`)."""
        level = logging.WARNING if type_ in _WARNINGS else logging.INFO
        trail = _COLLECTED.get() if self.keep else None
        logged = logger.isEnabledFor(level)
        if not logged and not self.hooks:  # the trail alone: no event to build
            if trail is not None:
                trail.append(stored_form(type_, at, fields))
            return
        event = AuditEvent(type_, at, **fields)
        if logged:
            parts = [f"{k}={v}" for k, v in (
                ("subject", event.subject), ("method", event.method), ("target", event.target),
                ("purpose", event.purpose), ("challenge", event.challenge_id), ("actor", event.actor),
            ) if v is not None]  # fmt: skip
            parts += [f"{k}={v}" for k, v in event.detail.items()]
            logger.log(level, "stepup %s %s", event.type, " ".join(parts))
        if trail is not None:
            trail.append(stored_form(type_, at, fields))
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                logger.exception("an audit hook failed on a %s event", event.type)
