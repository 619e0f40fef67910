"""A workflow's next step as the web shows it: ``next_event`` in the JSON API's challenge,
and the code page's "Call me instead (in 45 s)" button, in the words of the step's channel.

The button is rendered enabled with the seconds left in its label, so a browser without
JavaScript can press it and be told by the server how long is left; stepup's script
(``static/next-step.js``) disables it with a live countdown and enables it when due.
"""

from __future__ import annotations

import math
from typing import Any

from .._i18n import N_
from .._models import Challenge

__all__ = ["next_button", "next_event_view", "next_notice"]

#: channel -> (the button, the button while it waits, what the page says once it fired).
_WORDS = {
    "voice": (N_("Call me instead"), N_("Call me instead (in {seconds} s)"), N_("We are calling you with the code.")),
    "sms": (N_("Text me instead"), N_("Text me instead (in {seconds} s)"), N_("We texted you the same code.")),
    "email": (N_("Email me instead"), N_("Email me instead (in {seconds} s)"), N_("We emailed you the same code.")),
}
#: the words of a plug-in's channel, named by the channel.
_OTHER = (
    N_("Send it by {channel} instead"),
    N_("Send it by {channel} instead (in {seconds} s)"),
    N_("We sent you the same code by {channel}."),
)


def next_event_view(challenge: Challenge, now: float) -> dict[str, Any] | None:
    """The challenge's next step for a client: ``{"channel": "voice", "at": <unix time>,
    "in": <whole seconds until it is due>}``, or ``None`` when no step will fire."""
    event = challenge.next_event
    if event is None:
        return None
    return {"channel": event.channel, "at": event.at, "in": max(0, math.ceil(event.at - now))}


def next_button(event: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the code page's button says (catalog texts, filled and translated by the
    template) and how long it waits, for a view of :func:`next_event_view`."""
    if event is None:
        return None
    label, pattern, _ = _WORDS.get(event["channel"], _OTHER)
    return {"channel": event["channel"], "wait": event["in"], "label": label, "pattern": pattern}


def next_notice(channel: str) -> str:
    """The catalog text the code page shows once a step by ``channel`` fired."""
    return _WORDS.get(channel, _OTHER)[2]
