"""The WTForms fields of stepup's forms, rendered without WTForms' cost per attribute.

WTForms writes each attribute of an input with ``Markup.format``, a ``string.Formatter``
pass that made the inputs (CSRF tokens, the code field) a fifth of a code page's time. These
fields are WTForms' own with widgets whose :func:`html_params` writes the same text
(attributes sorted, ``True`` bare, ``False`` left out, names and values escaped the same
way) with plain string joins, and that read a field's flags without walking ``dir()``. A
template calls them as before (``form.code(**kwargs)``).
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup, escape
from wtforms import fields, widgets
from wtforms.csrf.core import CSRFTokenField as _CSRFTokenField
from wtforms.fields.core import Flags, Label

__all__ = ["BooleanField", "CSRFTokenField", "HiddenField", "RadioField", "StringField", "fast_field", "html_params"]


@functools.lru_cache(maxsize=256)
def _name(key: str) -> str:
    """An attribute's name as WTForms writes it: a trailing ``_`` dropped (``class_``),
    ``data_``/``aria_`` names with hyphens (``aria-invalid``)."""
    key = key.rstrip("_")
    return key.replace("_", "-") if key.startswith(("data_", "aria_")) else key


@functools.lru_cache(maxsize=256)
def _escaped_name(key: str) -> str:
    return str(escape(_name(key)))


def html_params(**kwargs: Any) -> Markup:
    """``wtforms.widgets.html_params``, the same text for the same arguments.

    :param kwargs: the attributes; ``True`` writes a bare attribute, ``False`` none.
    """
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(_escaped_name(key))
        elif value is not False:
            # escape() leaves no '"' in a plain value; a Markup value's own quotes WTForms
            # writes as &quot;, so this does too.
            params.append(f'{_escaped_name(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class _Input(widgets.Input):
    """WTForms' ``Input``: the same attributes, its field's flags read from the flags set
    (WTForms walks ``dir(flags)``, some thirty names, for each input it writes)."""

    html_params = staticmethod(html_params)
    validation_attrs: list[str]

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        datalist = getattr(field, "_datalist", None)
        if datalist is not None and "list" not in kwargs:
            kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
        flags = getattr(field, "flags", {})
        # A validator's flags are attributes of the field's Flags object: its own, as
        # dir() lists them (a Flags answers None for any other name).
        present = vars(flags) if type(flags) is Flags else dir(flags)
        for name in self.validation_attrs:
            if name in present and name not in kwargs:
                value = getattr(flags, name)
                kwargs[name] = value() if callable(value) else value
        return Markup(f"<input {self.html_params(name=field.name, **kwargs)}>")


class _Label(Label):
    """WTForms' ``Label``, its attributes written by :func:`html_params`."""

    def __call__(self, text: str | None = None, **kwargs: Any) -> Markup:
        if "for_" in kwargs:
            kwargs["for"] = kwargs.pop("for_")
        else:
            kwargs.setdefault("for", self.field_id)
        attributes = html_params(**kwargs)
        return Markup(f"<label{' ' if attributes else ''}{attributes}>{escape(text or self.text)}</label>")


#: WTForms' own ``<input>`` widgets whose HTML :class:`_Input` writes as they do (the
#: tests compare each); a class WTForms may add later, and an app's own widget classes
#: (their own ``__call__``, attributes or slots), render as they always do.
_STOCK_INPUTS = (
    "TextInput", "PasswordInput", "HiddenInput", "CheckboxInput", "RadioInput", "FileInput", "SubmitInput",
    "SearchInput", "TelInput", "URLInput", "EmailInput", "DateInput", "MonthInput", "WeekInput",
    "TimeInput", "DateTimeLocalInput", "NumberInput", "RangeInput", "ColorInput",
)  # fmt: skip
#: each of them -> the same class over :class:`_Input`.
_FAST: dict[type, type] = {
    cls: type(cls.__name__, (cls, _Input), {"__module__": cls.__module__})
    for cls in (getattr(widgets, name, None) for name in _STOCK_INPUTS)
    if isinstance(cls, type) and issubclass(cls, widgets.Input)
}


def _fast_widget(widget: Any) -> Any:
    """``widget``, one of WTForms' own ``<input>`` widgets, as its class over
    :class:`_Input`: the same object state (one ``__dict__``, so a change the app makes to
    the widget later, say ``hide_value``, shows in both); any other widget as it is."""
    fast_class = _FAST.get(type(widget))
    if fast_class is None:
        return widget
    fast: Any = object.__new__(fast_class)
    fast.__dict__ = widget.__dict__
    return fast


def fast_field(field: Any) -> Any:
    """``field``, its input and label written by :func:`html_params`: the same HTML, in
    about a quarter of the time, for the fields of an app's own :class:`~stepup.web.StepUpForm`
    (WTForms' ``StringField``, ``PasswordField`` and its other ``<input>`` fields; a
    field with a widget class of the app's own renders as it always does)."""
    field.widget = _fast_widget(field.widget)
    label = getattr(field, "label", None)
    if type(label) is Label:
        field.label = _Label(label.field_id, label.text)
    return field


class StringField(fields.StringField):
    """WTForms' ``StringField``, its input written by :func:`html_params`."""

    widget = _FAST[widgets.TextInput]()


class HiddenField(fields.HiddenField):
    """WTForms' ``HiddenField``, its input written by :func:`html_params`."""

    widget = _FAST[widgets.HiddenInput]()


class BooleanField(fields.BooleanField):
    """WTForms' ``BooleanField``, its checkbox written by :func:`html_params`."""

    widget = _FAST[widgets.CheckboxInput]()


class RadioField(fields.RadioField):
    """WTForms' ``RadioField``, each option's input written by :func:`html_params`."""

    option_widget = _FAST[widgets.RadioInput]()


class CSRFTokenField(_CSRFTokenField):
    """WTForms' CSRF token field, its hidden input written by :func:`html_params`."""

    widget = _FAST[widgets.HiddenInput]()
