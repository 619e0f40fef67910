"""Audit events: to the ``stepup.audit`` logger and to the app's hooks.

Events carry masked targets only, never a code or a secret; a hook that raises is logged
and does not break the flow that fired the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ._models import AuditEvent

__all__ = ["Auditor"]

logger = logging.getLogger("stepup.audit")
_WARNINGS = frozenset(
    {"failed", "exhausted", "locked", "rate_limited", "delivery_failed", "login_refused", "passkey_counter_went_back"}
)


class Auditor:
    """Hands each event to the logger and the hooks.

    :param hooks: callables taking an :class:`AuditEvent`.
    """

    def __init__(self, hooks: Iterable[Callable[[AuditEvent], None]] = ()) -> None:
        self.hooks = list(hooks)

    def wants(self, type_: str) -> bool:
        """Whether an event of this type would go anywhere: to a hook, or to the logger at
        its level. Events are built on the challenge path only when one would."""
        return bool(self.hooks) or logger.isEnabledFor(logging.WARNING if type_ in _WARNINGS else logging.INFO)

    def emit(self, event: AuditEvent) -> None:
        """Record ``event``."""
        level = logging.WARNING if event.type in _WARNINGS else logging.INFO
        if logger.isEnabledFor(level):
            parts = [f"{k}={v}" for k, v in (
                ("subject", event.subject), ("method", event.method), ("target", event.target),
                ("purpose", event.purpose), ("challenge", event.challenge_id),
            ) if v is not None]  # fmt: skip
            parts += [f"{k}={v}" for k, v in event.detail.items()]
            logger.log(level, "stepup %s %s", event.type, " ".join(parts))
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                logger.exception("an audit hook failed on a %s event", event.type)
