"""Audit events: to the ``stepup.audit`` logger, to the app's hooks, and to the trail the
store keeps (:mod:`stepup.engine._trail`).

Events carry masked targets only, never a code or a secret; a hook that raises is logged
and does not break the flow that fired the event. An event fired while a flow runs under
:func:`collecting` is also kept in that flow's list, which the engine appends to the store
when the flow ends; an event fired while the web layer handles a request carries the
request's context (:func:`request_context`): client address, user agent, app and route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._models import AuditEvent

__all__ = ["Auditor", "collected", "collecting", "current_request", "request_context"]

logger = logging.getLogger("stepup.audit")
_WARNINGS = frozenset(
    {"failed", "exhausted", "locked", "rate_limited", "delivery_failed", "login_refused", "passkey_counter_went_back"}
)
#: characters of a user agent an event keeps.
_AGENT_CHARS = 200

#: the events of the flow running now, to be stored when it ends (``None``: not kept).
_COLLECTED: ContextVar[list[AuditEvent] | None] = ContextVar("stepup_audit_collected", default=None)
#: the request the web layer is handling now.
_REQUEST: ContextVar[dict[str, str] | None] = ContextVar("stepup_audit_request", default=None)


def collected() -> list[AuditEvent] | None:
    """The list the running flow's events are kept in, or ``None`` outside such a flow."""
    return _COLLECTED.get()


@contextmanager
def collecting(events: list[AuditEvent]) -> Iterator[None]:
    """Keep the events fired inside in ``events``."""
    token = _COLLECTED.set(events)
    try:
        yield
    finally:
        _COLLECTED.reset(token)


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

    def emit(self, event: AuditEvent) -> None:
        """Record ``event``."""
        level = logging.WARNING if event.type in _WARNINGS else logging.INFO
        if logger.isEnabledFor(level):
            parts = [f"{k}={v}" for k, v in (
                ("subject", event.subject), ("method", event.method), ("target", event.target),
                ("purpose", event.purpose), ("challenge", event.challenge_id), ("actor", event.actor),
            ) if v is not None]  # fmt: skip
            parts += [f"{k}={v}" for k, v in event.detail.items()]
            logger.log(level, "stepup %s %s", event.type, " ".join(parts))
        trail = _COLLECTED.get()
        if self.keep and trail is not None:
            trail.append(event)
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                logger.exception("an audit hook failed on a %s event", event.type)
