"""Whether a challenge's method is still allowed by the policy in force where the
challenge was asked: the one rule read when its code is sent again, when its code is
verified and when its approval is used.

:func:`stepup.engine._challenges.start` checks the policy when a challenge begins; an
admin may switch the method off before its code is typed or its approval runs. Read again
at each of those steps (from the policy kept in memory, :mod:`stepup.engine._policy_cache`), it
stops them for the app, route and subject the challenge was started for, as it stops the
grants in sessions. Pure functions, for both engines.
"""

from __future__ import annotations

from .._errors import MethodNotAccepted, MethodNotAvailable
from .._i18n import T
from .._models import Challenge
from .._policy import Policy

__all__ = ["check_in_force"]


def check_in_force(policy: Policy, challenge: Challenge, *, used: bool = False) -> None:
    """Refuse a challenge whose method the policy no longer allows where it was asked.

    :param policy: the policy in force.
    :param challenge: the challenge, with its app, route and subject.
    :param used: its approval is about to be used (an operation runs); otherwise its code
        is about to be checked or sent.
    :raises MethodNotAccepted: ``used``: the approval's method is switched off there (403).
    :raises MethodNotAvailable: the code's method is switched off there (422).
    """
    allowed = policy.methods(app=challenge.app, route=challenge.route, subject=challenge.subject)
    method = challenge.method
    if method in allowed:
        return
    if used:
        accepted = tuple(sorted(m for m in allowed if challenge.accepts is None or m in challenge.accepts))
        raise MethodNotAccepted(
            T(
                "This was approved by {method}, which is switched off here now. Approve it again with another method.",
                method=method,
            ),
            method=method,
            accepted=accepted,
        )
    raise MethodNotAvailable(
        T("{method} is switched off here now. Start again and choose another method.", method=method)
    )
