"""The reference table of every setting, made from :class:`stepup.Settings` itself.

Each row is one dataclass field: its name, its ``STEPUP_*`` key, its type, its default as
the environment writes it, and the ``#:`` comment above it in ``_config.py``. ``stepup
config table`` prints the table; ``stepup config table --write docs/configuration.md``
(``make docs``) puts it between the marker comments of that page and keeps the prose
around them, so a setting added to the dataclass reaches the docs by one command, and a
test fails while the committed page lags behind.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._config import Settings
from ._errors import ConfigurationError

__all__ = ["BEGIN", "END", "committed_table", "field_comments", "rewrite_table", "settings_table"]

#: the line before the generated table.
BEGIN = "<!-- BEGIN settings table: `make docs` writes it from src/stepup/_config.py; do not edit -->"
#: the line after it.
END = "<!-- END settings table -->"

_FIELD = re.compile(r"^\s+(\w+)\s*:")


def field_comments() -> dict[str, str]:
    """The ``#:`` comment above each field of :class:`Settings`, its lines joined."""
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(Settings).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = _FIELD.match(line)
        if match and pending:
            comments[match.group(1)] = " ".join(pending)
        pending = []
    return comments


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default_factory is not dataclasses.MISSING:
        value: Any = f.default_factory()
    else:
        value = f.default
    if f.name == "secret_key":
        return "(required)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, frozenset | tuple):
        items = sorted(value) if isinstance(value, frozenset) else list(value)
        return f"`{','.join(items)}`" if items else "(empty)"
    if isinstance(value, Mapping):
        return f"`{json.dumps(dict(value))}`"
    if value == "":
        return "(empty)"
    return f"`{value}`"


def _cell(text: str) -> str:
    # Markdown code spans, and a table cell may hold no bare pipe.
    return re.sub(r"``([^`]+)``", r"`\1`", text).replace("|", "\\|")


def settings_table() -> str:
    """The Markdown table of every setting, one row per field of :class:`Settings`.

    :raises ConfigurationError: when a field has no ``#:`` comment (every setting is
        documented where it is defined).
    """
    comments = field_comments()
    rows = [
        "| setting | `STEPUP_*` key | type | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in dataclasses.fields(Settings):
        meaning = comments.get(f.name)
        if not meaning:
            raise ConfigurationError(f"The setting {f.name} has no #: comment in src/stepup/_config.py.")
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        cells = (f"`{f.name}`", f"`STEPUP_{f.name.upper()}`", _cell(f"`{kind}`"), _cell(_default(f)), _cell(meaning))
        rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"


def rewrite_table(path: str | Path) -> bool:
    """Put :func:`settings_table` between the markers of a Markdown page.

    :param path: the page (``docs/configuration.md``).
    :returns: whether the page changed.
    :raises ConfigurationError: when the page lacks the markers.
    """
    page = Path(path)
    text = page.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ConfigurationError(f"{page} has no settings table markers: a line {BEGIN} and, below it, {END}.")
    new = text[: start + len(BEGIN)] + "\n" + settings_table() + text[end:]
    if new == text:
        return False
    page.write_text(new, encoding="utf-8")
    return True


def committed_table(path: str | Path) -> str:
    """The table between the markers of a page as it is (for the test that compares).

    :param path: the page.
    """
    text = Path(path).read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    return text[start + len(BEGIN) + 1 : end] if 0 <= start < end else ""
