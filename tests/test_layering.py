"""The core knows no web framework: only stepup.flask and stepup.asgi import one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stepup"
ADAPTERS = {"flask", "asgi"}
FRAMEWORKS = {"flask", "werkzeug", "starlette"}


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_no_framework_import_outside_the_adapters():
    checked, offenders = 0, []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ADAPTERS:
            continue
        checked += 1
        found = _imported(ast.parse(path.read_text(encoding="utf-8"), str(path))) & FRAMEWORKS
        offenders += [f"{relative}: {name}" for name in sorted(found)]
    assert checked > 20  # the whole core was read
    assert offenders == []
