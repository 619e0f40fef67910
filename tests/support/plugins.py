"""Installing the example plug-ins of ``tests/plugins/`` as an installer would, without
pip: a ``*.dist-info`` folder with the entry points of the plug-in's ``pyproject.toml``,
on ``sys.path`` beside the plug-in's code, so ``importlib.metadata`` finds it.

Each is installed for one test only (``monkeypatch`` takes the paths off again), so
engines of other tests never see the plug-in.
"""

from __future__ import annotations

import sys
import tomllib
import types
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def install_plugin(name: str, monkeypatch: pytest.MonkeyPatch, site: Path) -> None:
    """Install the plug-in ``tests/plugins/<name>`` into ``site``, a fresh folder put on
    ``sys.path`` for this test.

    :param name: the plug-in's folder under ``tests/plugins``.
    :param monkeypatch: the test's, which restores ``sys.path`` and ``sys.modules`` after it.
    :param site: an empty folder to install into (a site-packages of this test's own).
    """
    source = PLUGINS / name
    pyproject = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for module in pyproject["tool"]["setuptools"]["py-modules"]:
        # Recorded as absent, so the plug-in's module is forgotten after the test.
        monkeypatch.setitem(sys.modules, module, types.ModuleType(module))
        del sys.modules[module]
    monkeypatch.syspath_prepend(str(source))
    monkeypatch.syspath_prepend(str(site))
