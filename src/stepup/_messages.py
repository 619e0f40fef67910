"""The texts people receive, per purpose and channel, ready for translation.

Every text is a format string marked with :func:`N_` so ``xgettext --keyword=N_`` (or
Babel) extracts it; pass a ``translate`` callable such as ``gettext.gettext`` to
:class:`MessageCatalog` and each text goes through it before its fields are filled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["MessageCatalog", "N_"]


def N_(text: str) -> str:  # noqa: N802 - the name xgettext looks for
    """Mark ``text`` for extraction; it is translated when used."""
    return text


#: purpose -> (email subject, body). Fields: app, code, minutes, operation, channel.
_TEXTS: dict[str, tuple[str, str]] = {
    "login": (
        N_("Your {app} sign-in code"),
        N_("{code} is your {app} sign-in code. It expires in {minutes} minutes. Never share it."),
    ),
    "step_up": (
        N_("Your {app} verification code"),
        N_("{code} is your {app} verification code. It expires in {minutes} minutes. Never share it."),
    ),
    "operation": (
        N_("Approve: {operation}"),
        N_("Code {code} approves {operation}. It expires in {minutes} minutes. "
           "If you did not ask for this, do not share the code."),
    ),
    "bind": (
        N_("Confirm your {channel} for {app}"),
        N_("{code} confirms this {channel} for your {app} account. It expires in {minutes} minutes."),
    ),
    "contact": (
        N_("Your {app} verification code"),
        N_("Your {app} verification code is {code}. It expires in {minutes} minutes."),
    ),
}  # fmt: skip

#: notices to a subject's other channels when their bindings change. Field: what, app.
_NOTICES: dict[str, tuple[str, str]] = {
    "bound": (
        N_("A sign-in method was added to your {app} account"),
        N_("{what} was added to your {app} account. If this was not you, contact support now."),
    ),
    "unbound": (
        N_("A sign-in method was removed from your {app} account"),
        N_("{what} was removed from your {app} account. If this was not you, contact support now."),
    ),
    "reset": (
        N_("The sign-in methods of your {app} account were reset"),
        N_(
            "Support removed every sign-in method of your {app} account: you will set one up at your next "
            "sign-in. If you did not ask for this, contact support now."
        ),
    ),
}  # fmt: skip

_CHANNEL_NOUNS = {"sms": N_("phone number"), "email": N_("email address")}
_CHANNEL_WAYS = {"sms": N_("text message"), "email": N_("email")}
#: told to the user when a code went by another method than the one chosen.
_FALLBACK = N_("Your code could not be sent by {failed}, so it went by {way} to {label} instead.")


@dataclass(frozen=True)
class MessageCatalog:
    """Builds the subject and body of each message.

    :param app: the app's name as users know it.
    :param translate: a gettext-style function applied to each text before formatting.
    :param overrides: purpose -> (subject, body) replacing the built-in texts.
    """

    app: str
    translate: Callable[[str], str] = N_
    overrides: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def code_message(
        self, purpose: str, channel: str, code: str, ttl: float, operation: str | None = None
    ) -> tuple[str, str]:
        """``(subject, body)`` of a message carrying ``code``.

        :param purpose: ``login``, ``step_up``, ``operation``, ``bind`` or ``contact``.
        :param channel: ``sms`` or ``email``.
        :param code: the code.
        :param ttl: seconds the code stays valid.
        :param operation: what an operation approval approves.
        """
        subject, body = self.overrides.get(purpose) or _TEXTS[purpose]
        fields = {
            "app": self.app,
            "code": code,
            "minutes": max(1, round(ttl / 60)),
            "operation": operation or "",
            "channel": self.translate(_CHANNEL_NOUNS.get(channel, channel)),
        }
        return self.translate(subject).format(**fields), self.translate(body).format(**fields)

    def fallback_notice(self, failed: str, channel: str, label: str) -> str:
        """What to tell a user whose code went by ``channel`` because ``failed`` could not
        carry it.

        :param failed: the channel that failed (``sms``).
        :param channel: the channel the code went by (``email``).
        :param label: the masked target it went to.
        """
        ways = {name: self.translate(way) for name, way in _CHANNEL_WAYS.items()}
        return self.translate(_FALLBACK).format(
            failed=ways.get(failed, failed), way=ways.get(channel, channel), label=label
        )

    def notice(self, change: str, what: str) -> tuple[str, str]:
        """``(subject, body)`` telling a subject that a binding changed.

        :param change: ``bound``, ``unbound`` or ``reset`` (every method, by support).
        :param what: the method, described with its masked target.
        """
        subject, body = _NOTICES[change]
        return (
            self.translate(subject).format(app=self.app, what=what),
            self.translate(body).format(app=self.app, what=what),
        )
