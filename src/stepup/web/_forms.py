"""The forms of stepup's pages: WTForms, each with a CSRF token bound to the session.

The token is an itsdangerous signature (its own salt, the app's keys, two hours) of a
random value kept in the session, checked in constant time; a form posted from another
site, from another session, or without the token fails validation.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from wtforms import Form
from wtforms.csrf.core import CSRF
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, ValidationError

from .._crypto import Keyring
from .._i18n import T
from ..methods import TargetInput
from ._widgets import BooleanField, CSRFTokenField, HiddenField, RadioField, StringField, fast_field

__all__ = [
    "AdminForm",
    "BindEmailForm",
    "BindPhoneForm",
    "ChooseForm",
    "CodeForm",
    "ConsoleForm",
    "ForgetBrowserForm",
    "PasskeyForm",
    "PasskeyNameForm",
    "PlainForm",
    "StepUpForm",
    "bind_target_form",
]

_SESSION_KEY = "_stepup_csrf"
_SALT = "stepup.csrf"
_CSRF_MAX_AGE = 7200


class _SessionCSRF(CSRF):
    def setup_form(self, form: Any) -> Any:
        self.meta = form.meta
        # No id: pages with several forms would repeat it.
        field = CSRFTokenField(label="CSRF Token", csrf_impl=self, render_kw={"id": False})
        return [(form.meta.csrf_field_name, field)]

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        session: MutableMapping[str, Any] = self.meta.csrf_context
        if not isinstance(session.get(_SESSION_KEY), str):
            session[_SESSION_KEY] = secrets.token_urlsafe(24)
        keys: Keyring = self.meta.csrf_keys
        return keys.sign(_SALT, session[_SESSION_KEY])

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        session = self.meta.csrf_context
        expected = session.get(_SESSION_KEY)
        value = self.meta.csrf_keys.unsign(_SALT, field.data, _CSRF_MAX_AGE)
        if not isinstance(expected, str) or not isinstance(value, str):
            raise ValidationError(T("The form expired or came from another page. Please try again."))
        if not hmac.compare_digest(value, expected):
            raise ValidationError(T("The form expired or came from another page. Please try again."))


class StepUpForm(Form):
    """A form with stepup's CSRF protection.

    Build it with :meth:`bind`, passing the request's form data (``None`` on GET).
    """

    class Meta:
        csrf = True
        csrf_class = _SessionCSRF
        csrf_field_name = "csrf_token"

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            """WTForms' own, each field's ``<input>`` and label then written by stepup's
            ``html_params``: the same HTML, without WTForms' ``Markup.format`` per attribute
            (two thirds of the bank's sign-in page)."""
            return fast_field(super().bind_field(form, unbound_field, options))  # type: ignore[misc]

    @classmethod
    def bind(cls, formdata: Any, session: MutableMapping[str, Any], keys: Keyring, **kwargs: Any) -> Any:
        """The form over ``formdata`` with its CSRF context.

        :param formdata: a multidict with ``getlist``, or ``None``.
        :param session: the session the CSRF value lives in.
        :param keys: the app's keyring.
        """
        return cls(formdata=formdata, meta={"csrf_context": session, "csrf_keys": keys}, **kwargs)

    def first_error(self) -> str | None:
        """The first error message of any field, for a page banner."""
        for errors in self.errors.values():
            for error in errors:
                return str(error)
        return None


class PlainForm(StepUpForm):
    """A button: only the CSRF token (resend, remove, generate, cancel)."""


class ChooseForm(StepUpForm):
    """Pick a bound method (by binding id)."""

    binding = RadioField(T("Method"), validators=[InputRequired(T("Choose a method."))], choices=[])


class CodeForm(StepUpForm):
    """Enter a code."""

    code = StringField(
        T("Code"),
        validators=[DataRequired(T("Enter the code.")), Length(max=64, message=T("That is longer than any code."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )
    remember = BooleanField(T("Remember this browser"))


class BindPhoneForm(StepUpForm):
    """Bind a mobile number."""

    phone = StringField(
        T("Mobile number"),
        validators=[
            DataRequired(T("Enter a phone number.")),
            Length(max=32, message=T("That is too long for a phone number.")),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "placeholder": "+44 7400 123456"},
    )


class BindEmailForm(StepUpForm):
    """Bind an email address."""

    email = StringField(
        T("Email address"),
        validators=[DataRequired(T("Enter an email address.")), Length(max=254, message=T("That is too long."))],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


@functools.cache
def bind_target_form(entry: TargetInput) -> type[StepUpForm]:
    """The form binding a plug-in method's target, as its :class:`TargetInput` describes
    it; its field is ``target``. The method's ``normalize_target`` checks the value."""
    render_kw = {"autocomplete": entry.autocomplete, "placeholder": entry.placeholder or None}

    class BindTargetForm(StepUpForm):
        target = StringField(
            entry.label,
            validators=[
                DataRequired(T("Enter your {what}.", what=entry.label.lower())),
                Length(max=320, message=T("That is too long.")),
            ],
            render_kw={key: value for key, value in render_kw.items() if value},
        )

    return BindTargetForm


class AdminForm(StepUpForm):
    """One policy switch: which scope, which setting, on or off."""

    scope = HiddenField(validators=[DataRequired()])
    name = HiddenField()
    setting = HiddenField(validators=[DataRequired()])
    enabled = HiddenField(validators=[AnyOf(("on", "off"), message="A switch is on or off.")])


#: what the support console can do to a subject (:data:`stepup.engine.ACTIONS`).
_CONSOLE_ACTIONS = ("unlock", "reset_method", "reset_all", "forget_browsers", "end_challenges")


class ConsoleForm(StepUpForm):
    """One change the support console makes to a subject."""

    subject = HiddenField(validators=[DataRequired(T("Name the user.")), Length(max=200)])
    action = HiddenField(validators=[AnyOf(_CONSOLE_ACTIONS, message=T("Unknown action."))])
    binding_id = HiddenField(validators=[Length(max=64)])
    method = HiddenField(validators=[Length(max=64)])


class ForgetBrowserForm(StepUpForm):
    """Forget one remembered browser (by its handle) or all of them (``all``)."""

    browser = HiddenField(validators=[DataRequired(T("Choose a browser.")), Length(max=64)])


class PasskeyForm(StepUpForm):
    """A passkey's response, which the page's script fills in from the authenticator."""

    credential = StringField(
        T("Passkey"),
        validators=[
            DataRequired(T("Use your passkey first.")),
            Length(max=16384, message=T("That is not a passkey's response.")),
        ],
    )
    remember = BooleanField(T("Remember this browser"))


class PasskeyNameForm(StepUpForm):
    """A passkey's name: to add one under it (empty: its authenticator's), or to rename one."""

    name = StringField(
        T("Name"), validators=[Length(max=64, message=T("A name is at most 64 characters."))],
        render_kw={"autocomplete": "off"},  # its placeholder is the page's, in the page's language
    )  # fmt: skip
