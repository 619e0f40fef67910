"""Which methods a route accepts: the one rule every path that starts, falls back,
approves or grants reads.

A route's ``methods=`` names the methods whose proof it takes. So a challenge started for
it is of one of them, a code that cannot be sent falls back only to another of them, and an
approval of one of its operations is used only when the method that approved it (the one
the code really went by, after any fallback) is among them. The choose page, the JSON API,
the approval header and the replay of a saved request all come through
:func:`accepts` and :func:`check_accepted`. Pure functions, for both engines.
"""

from __future__ import annotations

from collections.abc import Collection

from .._errors import MethodNotAccepted
from .._i18n import T

__all__ = ["accepts", "check_accepted"]


def accepts(accepted: Collection[str] | None, method: str) -> bool:
    """Whether a route that accepts ``accepted`` (``None``: any method) takes ``method``."""
    return accepted is None or method in accepted


def check_accepted(accepted: Collection[str] | None, method: str) -> None:
    """Refuse an approval given by a method the route does not accept.

    :param accepted: the route's methods (``None``: any).
    :param method: the method that approved.
    :raises MethodNotAccepted: with ``method`` and ``accepted``.
    """
    if not accepts(accepted, method):
        names = ", ".join(sorted(accepted or ()))
        raise MethodNotAccepted(
            T(
                "This was approved by {method}, which this request does not accept. Approve it with {names}.",
                method=method,
                names=names,
            ),
            method=method,
            accepted=tuple(sorted(accepted or ())),
        )
