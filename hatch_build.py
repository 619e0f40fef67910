"""The wheel's build step that compiles stepup's message catalogs: each
``src/stepup/locale/<locale>/LC_MESSAGES/stepup.po`` goes into the wheel as the ``.mo``
gettext reads, so an installed stepup never parses a ``.po`` (a source checkout does,
once per locale). The ``.po`` files are the source; no ``.mo`` is kept in the repository."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE_DIR = Path("src/stepup/locale")


class CatalogsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile every catalog into the wheel; a catalog that does not compile fails the build."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        out = Path(tempfile.mkdtemp(prefix="stepup-mo-"))
        for po in sorted((Path(self.root) / LOCALE_DIR).glob("*/LC_MESSAGES/stepup.po")):
            locale = po.parent.parent.name
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
            mo = out / locale / "stepup.mo"
            mo.parent.mkdir(parents=True)
            with mo.open("wb") as f:
                write_mo(f, catalog)
            build_data["force_include"][str(mo)] = f"stepup/locale/{locale}/LC_MESSAGES/stepup.mo"
