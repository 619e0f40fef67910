"""Where stepup's Jinja2 templates are: ``stepup/templates`` inside the package, found by
:mod:`importlib.resources` the same way in a source checkout, an editable install and a wheel."""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

__all__ = ["TEMPLATE_DIR"]


def _template_dir() -> Path:
    folder = resources.files("stepup") / "templates"
    if isinstance(folder, Path):
        return folder
    # Installed in a zip (zipimport): Flask's and Jinja2's file loaders need a real folder, so
    # the templates are copied out once and the copy removed when the process ends.
    keep = ExitStack()
    atexit.register(keep.close)
    return keep.enter_context(resources.as_file(folder))


#: the folder holding ``stepup/*.html``.
TEMPLATE_DIR: Path = _template_dir()
