"""The texts people receive, per purpose and channel, in each subject's language.

Every text is a format string marked with :func:`N_` so ``pybabel extract`` finds it;
each goes through the catalog of the message's locale (:mod:`stepup._i18n`) before its
fields are filled. An app that passes its own ``translate`` callable (``gettext.gettext``)
gets that one instead, for every locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._i18n import N_, translate

__all__ = ["MessageCatalog", "N_"]


#: purpose -> (email subject, body). Fields: app, code, minutes, operation, channel.
_TEXTS: dict[str, tuple[str, str]] = {
    "login": (
        N_("Your {app} sign-in code"),
        N_("{code} is your {app} sign-in code. It expires in {minutes} min. Never share it."),
    ),
    "step_up": (
        N_("Your {app} verification code"),
        N_("{code} is your {app} verification code. It expires in {minutes} min. Never share it."),
    ),
    "operation": (
        N_("Approve: {operation}"),
        N_("Code {code} approves {operation}. It expires in {minutes} min. Did not ask? Do not share it."),
    ),
    "bind": (
        N_("Confirm your {channel} for {app}"),
        N_("{code} confirms this {channel} for your {app} account. It expires in {minutes} min."),
    ),
    "contact": (
        N_("Your {app} verification code"),
        N_("Your {app} verification code is {code}. It expires in {minutes} min."),
    ),
}  # fmt: skip

#: notices to a subject's other channels when their bindings change: (email subject, email
#: body, SMS). Fields: what (the email's only: a masked target is not GSM-7), app.
_NOTICES: dict[str, tuple[str, str, str]] = {
    "bound": (
        N_("A sign-in method was added to your {app} account"),
        N_("{what} was added to your {app} account. If this was not you, contact support now."),
        N_("{app}: a sign-in method was added to your account. Not you? Contact support now."),
    ),
    "unbound": (
        N_("A sign-in method was removed from your {app} account"),
        N_("{what} was removed from your {app} account. If this was not you, contact support now."),
        N_("{app}: a sign-in method was removed from your account. Not you? Contact support now."),
    ),
    "reset": (
        N_("The sign-in methods of your {app} account were reset"),
        N_(
            "Support removed every sign-in method of your {app} account: you will set one up at your next "
            "sign-in. If you did not ask for this, contact support now."
        ),
        N_("{app}: support reset your sign-in methods. Not you? Contact support now."),
    ),
}  # fmt: skip

#: purpose -> what a call says first. Fields: app, operation, code (read digit by digit).
_SPOKEN: dict[str, str] = {
    "login": N_("Your {app} sign-in code is: {code}."),
    "step_up": N_("Your {app} verification code is: {code}."),
    "operation": N_("Your code to approve {operation} is: {code}."),
    "bind": N_("Your code to confirm this phone number for {app} is: {code}."),
    "contact": N_("Your {app} verification code is: {code}."),
}  # fmt: skip
#: what a call says after a pause: the code once more.
_SPOKEN_AGAIN = N_("Once more, your code is: {code}. Never share it.")
#: what parts the digits of a spoken code, per language: a pause short enough to keep the
#: code together, long enough that a voice never reads "123456" as one number.
_DIGIT_PAUSES = {"ja": "、", "zh_Hans": "、", "zh_Hant": "、"}

_CHANNEL_NOUNS = {"sms": N_("phone number"), "email": N_("email address"), "voice": N_("phone number")}
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
    translate: Callable[[str], str] | None = None
    overrides: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: the app's own catalog folder (``translations_dir``), searched before stepup's.
    translations_dir: str = ""

    def _(self, text: str, locale: str | None) -> str:
        """``text`` in ``locale`` (English when ``None``), or through the app's ``translate``."""
        if self.translate is not None:
            return self.translate(text)
        return translate(text, locale or "en", self.translations_dir)

    def code_message(
        self, purpose: str, channel: str, code: str, ttl: float, operation: str | None = None,
        locale: str | None = None,
    ) -> tuple[str, str]:  # fmt: skip
        """``(subject, body)`` of a message carrying ``code``.

        :param purpose: ``login``, ``step_up``, ``operation``, ``bind`` or ``contact``.
        :param channel: ``sms``, ``email`` or ``voice`` (what a call says: the code digit
            by digit, then after a pause once more; no subject), or a plug-in's channel
            (the SMS text).
        :param code: the code.
        :param ttl: seconds the code stays valid.
        :param operation: what an operation approval approves.
        :param locale: the language of the message (``None``: English).
        """
        if channel == "voice":
            return "", self.spoken(purpose, code, operation, locale)
        subject, body = self.overrides.get(purpose) or _TEXTS[purpose]
        fields = {
            "app": self.app,
            "code": code,
            "minutes": max(1, round(ttl / 60)),
            "operation": operation or "",
            "channel": self._(_CHANNEL_NOUNS.get(channel, channel), locale),
        }
        return self._(subject, locale).format(**fields), self._(body, locale).format(**fields)

    def spoken(self, purpose: str, code: str, operation: str | None = None, locale: str | None = None) -> str:
        """What a call carrying ``code`` says: two parts split by a blank line, each with
        the code read digit by digit (a voice sender pauses between the parts).

        :param purpose: as for :meth:`code_message`.
        :param code: the code.
        :param operation: what an operation approval approves.
        :param locale: the language of the call.
        """
        digits = _DIGIT_PAUSES.get(locale or "", ", ").join(code)
        first = self._(_SPOKEN[purpose], locale).format(app=self.app, operation=operation or "", code=digits)
        return f"{first}\n\n{self._(_SPOKEN_AGAIN, locale).format(code=digits)}"

    def fallback_notice(self, failed: str, channel: str, label: str, locale: str | None = None) -> str:
        """What to tell a user whose code went by ``channel`` because ``failed`` could not
        carry it.

        :param failed: the channel that failed (``sms``).
        :param channel: the channel the code went by (``email``).
        :param label: the masked target it went to.
        :param locale: the language of the notice.
        """
        ways = {name: self._(way, locale) for name, way in _CHANNEL_WAYS.items()}
        return self._(_FALLBACK, locale).format(
            failed=ways.get(failed, failed), way=ways.get(channel, channel), label=label
        )

    def notice(self, change: str, what: str, locale: str | None = None, channel: str = "email") -> tuple[str, str]:
        """``(subject, body)`` telling a subject that a binding changed.

        :param change: ``bound``, ``unbound`` or ``reset`` (every method, by support).
        :param what: the method, described with its masked target (in the email).
        :param locale: the language of the notice.
        :param channel: ``sms`` gets the short text, which fits one segment.
        """
        subject, body, sms = _NOTICES[change]
        text = sms if channel == "sms" else body
        return (
            self._(subject, locale).format(app=self.app, what=what),
            self._(text, locale).format(app=self.app, what=what),
        )
