"""Reading what an app answered, the same way whichever test client fetched it: the forms
of a page, and :class:`Page`, one response of Flask's test client or of httpx."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Form:
    """One ``<form>`` of a page: where it posts and what it would send as it stands."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    #: radio group name -> [(value, label text)].
    radios: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    checkboxes: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._radio: tuple[str, str] | None = None
        self._label: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            form, name, kind = self.forms[-1], a.get("name", ""), a.get("type", "text")
            if kind == "radio":
                form.radios.setdefault(name, [])
                self._radio, self._label = (name, a.get("value", "")), []
            elif kind == "checkbox":
                form.checkboxes.append(name)
            elif name:
                form.fields[name] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._radio is not None:
            self._label.append(data)
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._radio is not None:
            name, value = self._radio
            self.forms[-1].radios[name].append((value, " ".join("".join(self._label).split())))
            self._radio = None
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(" ".join("".join(self._button).split()))
            self._button = None


def forms_of(html: str) -> list[Form]:
    """The forms of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL, first value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Page:
    """One response, read whole: Werkzeug's ``TestResponse`` or an httpx ``Response``.

    :ivar url: the path and query it answered (script root included).
    :ivar headers: the response headers, looked up by any case.
    """

    def __init__(self, status_code: int, content: bytes, headers: Any, url: str) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers
        self.url = url

    @classmethod
    def from_werkzeug(cls, response: Any) -> Page:
        """Read a Flask test client's response (and close it: static files hold theirs open)."""
        request = response.request
        query = request.query_string.decode()
        url = request.script_root + request.path + (f"?{query}" if query else "")
        with response:
            return cls(response.status_code, response.get_data(), response.headers, url)

    @classmethod
    def from_httpx(cls, response: Any) -> Page:
        """Read an httpx response (``TestClient``'s, or ``AsyncClient``'s once read)."""
        return cls(response.status_code, response.content, response.headers, response.request.url.raw_path.decode())

    @property
    def text(self) -> str:
        return self.content.decode()

    @property
    def location(self) -> str | None:
        """Where a redirect points, as the app wrote it."""
        return self.headers.get("Location")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header that may repeat (``Set-Cookie``)."""
        getlist = getattr(self.headers, "getlist", None) or self.headers.get_list
        return list(getlist(name))

    def __repr__(self) -> str:
        return f"<Page {self.status_code} {self.url}>"
