"""A protected operation: its template, reading it from its request, and what its approval
is bound to.

An approval must approve exactly what the view runs. So the fields are read only from a
body that stepup and the frameworks read alike (a form, or a JSON object, by the media
type in any case), each field once, whole, not blank and in characters a message can
carry; anything else is refused before a challenge is started, a limit charged or an
approval used. And an approval is bound to more than the fields: to the operation's text,
the app, route, method and path that run it, so an approval of one operation passes no
other that happens to share its fields.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .._errors import InvalidInput
from .._i18n import T
from ._base import WebRequest, is_json_type

__all__ = [
    "SHOWN_MAX", "Operation", "OperationUnreadable", "UnsupportedMediaType", "check_value", "operation_of",
    "read_operation",
]  # fmt: skip

#: characters a message cannot carry, or would carry to mislead: control characters (CR
#: and LF among them), lone surrogates, line and paragraph separators, and the invisible
#: format characters (zero-width spaces and joiners, soft hyphens, byte-order marks, the
#: bidirectional marks, overrides and isolates that reorder what the message shows), so
#: that two values a message shows alike are one value.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp", "Cf"})


#: the Unicode Default_Ignorable_Code_Point ranges outside the categories above (Unicode
#: 15's DerivedCoreProperties: the combining grapheme joiner, Hangul fillers, variation
#: selectors...): renderers draw nothing for them, so ``bo\u034fb`` reads as ``bob``. And
#: the braille blank, which draws as a space.
_INVISIBLE = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2800, 0x2800),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
#: the most characters of a field a message shows: a longer value is refused, never cut.
SHOWN_MAX = 200


def _unfit(c: str) -> bool:
    """A character no approval message should carry. Digits other than 0-9 count: Python's
    ``int``, ``float`` and ``Decimal`` read ``"10\u066000"`` (an Arabic-Indic zero, which
    a message shows like a dot) as 10000, so the amount an app runs would not be the one
    its user read. So does every space but the plain one (a no-break space reads like it)."""
    category = unicodedata.category(c)
    if category in _REFUSED_CATEGORIES or (category == "Nd" and not c.isascii()):
        return True
    if category == "Zs":
        return c != " "
    code = ord(c)
    return any(low <= code <= high for low, high in _INVISIBLE)


class OperationUnreadable(InvalidInput):
    """The fields a protected operation is bound to cannot be read for its approval.

    :param reason: ``body`` (not the JSON object it claims to be), ``missing``, ``blank``,
        ``characters`` (a value no message can carry), ``spaces``, ``length`` or
        ``media_type``.
    :param field: the field at fault, when one is.
    """

    status = 400
    code = "operation_unreadable"

    def __init__(self, message: str, reason: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field


class UnsupportedMediaType(OperationUnreadable):
    """The body of a protected operation is neither a form nor JSON: the app might read it
    some other way, so stepup approves nothing from it."""

    status = 415
    code = "unsupported_media_type"


class Operation:
    """Describes a risky operation from the request's fields, for the message and the
    approval's digest: ``Operation("transfer of {amount} to {to}", ["to", "amount"])``.

    Every field the template shows must be given, and not blank: a message that reads
    "approves transfer of  to ." approves nothing a person could check. A field that is
    bound but not shown may be left out (a ``PATCH`` that changes some fields only).

    :param template: the words the message shows, with ``{field}`` places.
    :param fields: the form or JSON fields the approval is bound to.
    :ivar shown: the fields the template shows, which must not be missing or blank.
    """

    def __init__(self, template: str, fields: list[str] | tuple[str, ...]) -> None:
        self.template = template
        self.fields = tuple(fields)
        self.shown = frozenset(_places(template))

    def __call__(self, values: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        """``(description, data)`` for the request's values.

        The approval is bound to each field whole; only the description, the words of the
        message, is shortened.

        :raises InvalidInput: a field is given more than once (``to=bob&to=mallory``):
            frameworks disagree on which one the app reads, so neither is approved.
        :raises OperationUnreadable: a field the template shows is missing or blank, or a
            field holds characters no message can carry (line breaks, control characters,
            lone surrogates): 400, before anything is started or charged.
        """
        data: dict[str, str] = {}
        for name in self.fields:
            getlist = getattr(values, "getlist", None)
            given = list(getlist(name)) if callable(getlist) else [values.get(name)]
            if len(given) > 1:
                raise InvalidInput(T("The field '{field}' is given more than once; send it once.", field=name))
            value = given[0] if given else None
            data[name] = "" if value is None else str(value)
            check_value(name, None if value is None else data[name], required=name in self.shown)
        return self.template.format_map({name: value[:SHOWN_MAX] for name, value in data.items()}), data


def operation_of(operation: Operation | str | None, fields: Iterable[str]) -> Operation | None:
    """The operation a protection names, as both adapters' decorators take it: an
    :class:`Operation`, or its template, bound to ``fields`` or else to the fields the
    template shows.

    :param operation: an :class:`Operation`, a template string, or ``None`` (no operation).
    :param fields: the fields a template string is bound to (default: those it names).
    """
    if isinstance(operation, str):
        return Operation(operation, tuple(fields) or tuple(_places(operation)))
    return operation


def _places(template: str) -> list[str]:
    """The fields a template shows, in order: its ``{field}`` places."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def check_value(name: str, value: str | None, *, required: bool) -> None:
    """Refuse a bound field that holds characters a message cannot carry, or, when the
    message shows it, that is missing or blank.

    :param name: the field's name, for the message.
    :param value: its value, ``None`` when it was not sent.
    :param required: the message shows the field.
    :raises OperationUnreadable: with ``reason`` ``missing``, ``blank``, ``characters``,
        and for a field the message shows, ``spaces`` (at its ends or in a row) or
        ``length`` (over :data:`SHOWN_MAX` characters, which the message would cut).
    """
    if value is None:
        if required:
            message = T("The field '{field}' is missing; send the request again with it.", field=name)
            raise OperationUnreadable(message, "missing", name)
        return
    if required and not value.strip():
        raise OperationUnreadable(
            T("The field '{field}' is empty; fill it in and send the request again.", field=name), "blank", name
        )
    if any(_unfit(c) for c in value):
        raise OperationUnreadable(
            T(
                "The field '{field}' holds characters that cannot be shown in a message (line breaks, control or "
                "invisible characters, digits other than 0-9, or broken Unicode). Remove them and send the request "
                "again.",
                field=name,
            ),
            "characters",
            name,
        )
    if required and (value != value.strip(" ") or "  " in value):
        # "bob " and "bob  smith" read as "bob" and "bob smith" in a message.
        message = T(
            "The field '{field}' has spaces at its ends or in a row; remove them and send the request again.",
            field=name,
        )
        raise OperationUnreadable(message, "spaces", name)
    if required and len(value) > SHOWN_MAX:
        message = T(
            "The field '{field}' is too long to show in a message (at most {limit} characters).",
            field=name,
            limit=SHOWN_MAX,
        )
        raise OperationUnreadable(message, "length", name)


def read_operation(
    req: WebRequest, operation: Operation, *, app: str | None, route: str | None
) -> tuple[str, dict[str, Any]]:
    """What a request to a protected operation asks for, in words, and what its approval
    is bound to: the operation's text (its template, with the ``{field}`` places), the
    app, the route, the method, the path, and every bound field, whole.

    :param req: the request.
    :param operation: the route's operation.
    :param app: the policy's app of the route (blueprint, mount).
    :param route: the route (endpoint).
    :raises UnsupportedMediaType: a body that is neither a form nor JSON (415).
    :raises OperationUnreadable: a JSON body that is not an object; a bound field that is
        missing, blank or unfit for a message (400).
    :raises InvalidInput: a bound field given more than once (422).
    """
    description, fields = operation(_values(req) if operation.fields else {})
    bound = {
        "operation": operation.template, "app": app, "route": route, "method": req.method, "path": req.path,
        "fields": fields,
    }  # fmt: skip
    return description, bound


def _values(req: WebRequest) -> Mapping[str, Any]:
    """The form or the JSON object the operation's fields are read from."""
    if req.form is not None:
        return req.form  # type: ignore[no-any-return]
    if is_json_type(req.media_type):
        if isinstance(req.json, dict):
            return req.json
        if req.body:
            raise OperationUnreadable(T("The body must be a JSON object holding the operation's fields."), "body")
        return {}
    if req.body:
        raise UnsupportedMediaType(
            T(
                "Send this request as a form or as JSON (Content-Type: application/json): "
                "a body of type '{media_type}' cannot be approved.",
                media_type=req.media_type or "unknown",
            ),
            "media_type",
        )
    return {}
