"""The package carries its own templates and compiled catalogs: in the wheel, and where an
install finds them."""

from __future__ import annotations

import gettext
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import stepup
from stepup.web import TEMPLATE_DIR

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "stepup" / "templates"


def _template_files() -> list[str]:
    """Every file under ``src/stepup/templates``, as its name inside the wheel."""
    files = [p for p in TEMPLATES.rglob("*") if p.is_file()]
    return sorted(f"stepup/templates/{p.relative_to(TEMPLATES).as_posix()}" for p in files)


def test_the_wheel_holds_every_template_and_every_compiled_catalog(tmp_path):
    # pip runs the project's build backend (hatchling, in the dev extra) as an installer would.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path), "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("stepup-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = _template_files()
    assert "stepup/templates/stepup/base.html" in expected
    missing = [name for name in expected if name not in names]
    assert missing == [], f"templates missing from {wheel.name}: {missing}"
    assert not any(name.startswith("templates/") for name in names)  # nothing outside the package
    # the build compiled each catalog (hatch_build.py), and what it compiled reads back
    for locale in stepup.LOCALES:
        mo = f"stepup/locale/{locale}/LC_MESSAGES/stepup.mo"
        assert mo in names, f"{mo} missing from {wheel.name}"
    with zipfile.ZipFile(wheel) as archive:
        german = gettext.GNUTranslations(io.BytesIO(archive.read("stepup/locale/de/LC_MESSAGES/stepup.mo")))
    assert german.gettext("Enter your code") == "Code eingeben"


def test_the_installed_package_finds_its_templates():
    # the install this suite runs on (editable under `make install`) reads the package's own folder
    assert TEMPLATE_DIR == Path(stepup.__file__).resolve().parent / "templates"
    assert (TEMPLATE_DIR / "stepup" / "base.html").is_file()
