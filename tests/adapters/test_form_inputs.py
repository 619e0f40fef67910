"""stepup's form inputs are written as WTForms writes them: a template that renders a field
itself (``form.code(class_="big")``, an app's own copy of a page) gets the same HTML."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import widgets

from stepup._crypto import Keyring
from stepup.web import _forms
from stepup.web._widgets import _Input, html_params

_CASES: list[dict[str, Any]] = [
    {"id": "code", "name": "code", "value": "a\"b<c>&'", "required": True, "autofocus": True, "disabled": False},
    {"aria_invalid": "true", "aria_describedby": "code-error", "data_wait_for": 3, "class_": "big", "for_": "x"},
    {"value": Markup('<b title="x">'), "placeholder": None, "maxlength": 64},
    {"a&b": "1", "checked": True},
    {'x"><script>alert(1)</script><x': True},  # a bare attribute's name is escaped too
    {},
]


@pytest.mark.parametrize("attributes", _CASES)
def test_attributes_are_written_as_wtforms_writes_them(attributes: dict[str, Any]) -> None:
    ours = html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == widgets.html_params(**attributes)


_STOCK = {
    "StringField": widgets.TextInput(),
    "HiddenField": widgets.HiddenInput(),
    "CSRFTokenField": widgets.HiddenInput(),
    "BooleanField": widgets.CheckboxInput(),
}


@pytest.mark.parametrize(
    ("form_class", "data"),
    [
        (_forms.CodeForm, None),
        (_forms.CodeForm, MultiDict({"code": '12"<3', "remember": "y", "csrf_token": "forged"})),
        (_forms.ChooseForm, MultiDict({"binding": "b2"})),
        (_forms.ConsoleForm, MultiDict({"subject": "a&b", "action": "unlock"})),
        (_forms.BindPhoneForm, None),
        (_forms.PasskeyForm, None),
    ],
)
def test_every_field_renders_as_with_wtforms_widgets(form_class: Any, data: Any) -> None:
    form = form_class.bind(data, {}, Keyring("k" * 40, clock=lambda: 1000.0))
    if form_class is _forms.ChooseForm:
        form.binding.choices = [("b1", "SMS"), ("b2", 'Email "work"')]
    if data is not None:
        form.validate()
    extra = {"aria_invalid": "true", "aria_describedby": "f-error", "autofocus": True, "inputmode": "numeric"}
    rendered = 0
    for field in form:
        for part in list(field) if field.name == "binding" else [field]:
            stock = widgets.RadioInput() if field.name == "binding" else _STOCK[type(part).__name__]
            for kwargs in ({}, extra):
                ours, widget = part(**kwargs), part.widget
                part.widget = stock  # the same field, its attributes and render_kw, by WTForms
                assert ours == part(**kwargs)
                part.widget = widget
                rendered += 1
    assert rendered >= 4


class _Stars(widgets.TextInput):
    """An app's own input widget, with a __call__ of its own."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("data_stars", "*" * 3)
        return super().__call__(field, **kwargs)


def _app_fields() -> dict[str, Any]:
    from wtforms import fields, validators

    return {
        "name": fields.StringField("Name <b>", validators=[validators.InputRequired(), validators.Length(max=64)]),
        "password": fields.PasswordField("Password", validators=[validators.DataRequired()]),
        "shown": fields.PasswordField("Shown", widget=widgets.PasswordInput(hide_value=False)),
        "age": fields.IntegerField("Age", validators=[validators.NumberRange(min=18, max=130)]),
        "email": fields.EmailField("Email", render_kw={"placeholder": "you@example.com"}),
        "day": fields.DateField("Day"),
        "agree": fields.BooleanField("I agree"),
        "secret": fields.HiddenField(),
        "stars": fields.StringField("Stars", widget=_Stars()),
        "upload": fields.FileField("File"),
        "notes": fields.TextAreaField("Notes"),
        "go": fields.SubmitField("Send & go"),
        "search": fields.SearchField("Search"),
        "tel": fields.TelField("Phone"),
        "url": fields.URLField("Site"),
        "month": fields.MonthField("Month"),
        "week": fields.WeekField("Week"),
        "time": fields.TimeField("Time"),
        "local": fields.DateTimeLocalField("Local time"),
        "level": fields.IntegerRangeField("Level", validators=[validators.NumberRange(min=1, max=5)]),
        "price": fields.DecimalField("Price", places=2),
        "colour": fields.ColorField("Colour"),
    }


@pytest.mark.parametrize(
    "data",
    [
        None,
        MultiDict({
            "name": 'a"<b>', "password": "p<w>", "shown": "s&t", "age": "7", "agree": "y", "day": "x",
            "url": "javascript:x", "level": "9", "price": "1.5<", "colour": '"#fff"',
        }),
    ],
)
def test_an_apps_own_stepup_form_renders_as_with_wtforms(data: Any) -> None:
    """An app's forms built on StepUpForm (the banks' sign-in and transfer forms) write
    their inputs and labels faster than WTForms, and the same HTML: every <input> field of
    WTForms, a password shown or hidden, an app's own widget, with errors and attributes."""
    from wtforms import Form

    ours_class = type("AppForm", (_forms.StepUpForm,), _app_fields())
    stock_class = type("AppForm", (Form,), _app_fields())
    ours = ours_class.bind(data, {}, Keyring("k" * 40, clock=lambda: 1000.0))
    stock = stock_class(formdata=data)
    if data is not None:
        ours.validate(), stock.validate()
    extra = {"class_": "wide", "aria_invalid": "true", "autofocus": True, "data_x": 'q"<', "required": False}
    compared = 0
    for name in _app_fields():
        mine, theirs = ours[name], stock[name]
        assert mine.errors == theirs.errors
        for kwargs in ({}, extra):
            assert mine(**kwargs) == theirs(**kwargs), name
            compared += 1
        assert str(mine.label) == str(theirs.label)
        assert mine.label(for_="other", class_="l") == theirs.label(for_="other", class_="l")
        assert mine.label("Text & more") == theirs.label("Text & more")
        assert isinstance(mine.widget, type(theirs.widget))  # an app's checks of its widget still hold
        # WTForms' own inputs take stepup's path; an app's own widget and a textarea their own.
        assert isinstance(mine.widget, _Input) == (name not in ("stars", "notes"))
    assert compared == 2 * len(_app_fields())


def test_a_change_to_a_widget_after_the_form_is_bound_shows_as_with_wtforms() -> None:
    """The widget stepup renders with is the app's own object state, not a copy of it."""
    from wtforms import Form, fields

    shared = widgets.PasswordInput(hide_value=False)
    ours = type("AppForm", (_forms.StepUpForm,), {"pin": fields.PasswordField("PIN", widget=shared)})
    stock = type("AppForm", (Form,), {"pin": fields.PasswordField("PIN", widget=shared)})
    data = MultiDict({"pin": "1234"})
    first = ours.bind(data, {}, Keyring("k" * 40, clock=lambda: 1000.0))
    assert 'value="1234"' in first.pin()
    shared.hide_value = True
    assert first.pin() == stock(formdata=data).pin() and "1234" not in first.pin()
