"""The WTForms fields of stepup's forms, rendered without WTForms' cost per attribute.

WTForms writes each attribute of an input with ``Markup.format``, a ``string.Formatter``
pass that made the inputs (CSRF tokens, the code field) a fifth of a code page's time. These
fields are WTForms' own with widgets whose :func:`html_params` writes the same text
(attributes sorted, ``True`` bare, ``False`` left out, names and values escaped the same
way) with plain string joins. A template calls them as before (``form.code(**kwargs)``).
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup, escape
from wtforms import fields, widgets
from wtforms.csrf.core import CSRFTokenField as _CSRFTokenField

__all__ = ["BooleanField", "CSRFTokenField", "HiddenField", "RadioField", "StringField", "html_params"]


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
            params.append(_name(key))
        elif value is not False:
            # escape() leaves no '"' in a plain value; a Markup value's own quotes WTForms
            # writes as &quot;, so this does too.
            params.append(f'{_escaped_name(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class _TextInput(widgets.TextInput):
    html_params = staticmethod(html_params)


class _HiddenInput(widgets.HiddenInput):
    html_params = staticmethod(html_params)


class _CheckboxInput(widgets.CheckboxInput):
    html_params = staticmethod(html_params)


class _RadioInput(widgets.RadioInput):
    html_params = staticmethod(html_params)


class StringField(fields.StringField):
    """WTForms' ``StringField``, its input written by :func:`html_params`."""

    widget = _TextInput()


class HiddenField(fields.HiddenField):
    """WTForms' ``HiddenField``, its input written by :func:`html_params`."""

    widget = _HiddenInput()


class BooleanField(fields.BooleanField):
    """WTForms' ``BooleanField``, its checkbox written by :func:`html_params`."""

    widget = _CheckboxInput()


class RadioField(fields.RadioField):
    """WTForms' ``RadioField``, each option's input written by :func:`html_params`."""

    option_widget = _RadioInput()


class CSRFTokenField(_CSRFTokenField):
    """WTForms' CSRF token field, its hidden input written by :func:`html_params`."""

    widget = _HiddenInput()
