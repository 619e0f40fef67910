"""What a failed send is: any exception from a sender, and what it costs.

A sender's contract is to raise :class:`DeliveryError`, but a sender can fail in ways it
did not foresee: a message it cannot encode (a lone surrogate for a file, a line break in
a header for SMTP), a bug in a third-party sender, a driver's own error type. Each of
those is a failed delivery like any other: logged without the message, audited as
``delivery_failed``, the next route tried, and in the end a :class:`DeliveryError` (503)
with a message a person can act on. Never a 500 with the challenge left stored.

The charging rule for a send that failed, in one place (:data:`GIVEN_BACK`): it is
charged to the limits of where it was going (the number or address, its prefix and its
country), because a provider that timed out may have delivered and billed it, and an
attacker who can make sends fail must not get unlimited free tries at a number (SMS
pumping through timeouts). It is not charged to the subject: the challenge never existed,
so ``challenges_per_subject`` is given back and an outage of one channel never keeps a
user from their other methods (TOTP, recovery codes, email).
"""

from __future__ import annotations

import logging
import traceback

from .._errors import DeliveryError
from .._i18n import T

__all__ = ["GIVEN_BACK", "as_delivery_error"]

logger = logging.getLogger("stepup.delivery")

#: the limits a challenge whose code could not be sent gives back (see the module's text).
GIVEN_BACK = frozenset({"challenges_per_subject", "challenges_per_login"})


def as_delivery_error(error: Exception, channel: str, route: str) -> DeliveryError:
    """The :class:`DeliveryError` of a send that raised ``error``.

    A :class:`DeliveryError` stands as it is (its text is the sender's, free of
    credentials and of the message by contract). Any other exception is logged by its type
    and the line that raised it, never by its text or traceback, which may quote the
    message and so the code.

    :param error: what the sender raised.
    :param channel: ``sms`` or ``email``.
    :param route: the sender tried (``sms``, ``sms:GB``, ``sms:fallback``, ``email``).
    """
    if isinstance(error, DeliveryError):
        return error
    name = type(error).__name__
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    logger.warning("stepup: the %s sender raised %s at %s; handled as a failed send", route, name, where)
    return DeliveryError(
        T("The code could not be sent. Try again in a few minutes or choose another method."),
        channel,
        f"the sender failed ({name})",
    )
