"""Where stepup's Jinja2 templates are: the project's top-level ``templates/`` folder in
a source checkout, ``stepup/templates`` inside an installed wheel."""

from __future__ import annotations

from pathlib import Path

__all__ = ["TEMPLATE_DIR"]

_PACKAGED = Path(__file__).resolve().parent.parent / "templates"
_CHECKOUT = Path(__file__).resolve().parents[3] / "templates"

#: the folder holding ``stepup/*.html``.
TEMPLATE_DIR: Path = _PACKAGED if (_PACKAGED / "stepup").is_dir() else _CHECKOUT
