"""A channel of its own: codes paged to a phone number, in the few characters a pager shows."""

from __future__ import annotations

from stepup import Message, MessageCatalog
from stepup.methods import SmsMethod


class PagerChannel:
    """The ``pager`` channel: it reaches phone numbers (so it routes by country as SMS
    does), and its message is the app's name and the code, nothing more."""

    name = "pager"
    target = "phone"

    def code_message(
        self, catalog: MessageCatalog, *, to: str, purpose: str, code: str, ttl: float,
        operation: str | None = None, locale: str | None = None,
    ) -> Message:  # fmt: skip
        return Message("pager", to, f"{catalog.app} {code}", purpose=purpose, locale=locale or "")


class PagerMethod(SmsMethod):
    """A code paged to a bound number."""

    name = "pager"
    channel = "pager"
    title = "Pager"
