"""The shape of ``src/stepup``, read from its source with :mod:`ast` (nothing is imported).

1. No module over 400 lines.
2. No function over 60 lines (from its ``def`` to its last line), except a declarative
   table. The marker: a ``# table:`` comment saying what the function lists, on its
   ``def`` line (or another line of its signature), and a body without control flow (no
   ``if``, ``for``, ``while``, ``try``, ``with`` or ``match``)::

       def _routes() -> tuple[Route, ...]:  # table: every page and the handler that serves it

3. No import cycle among stepup's modules. Imports under ``if TYPE_CHECKING:`` are left
   out (they never run); imports inside functions count.
4. Floors (:data:`FLOORS`, lowest first): a module imports from its own floor and the
   floors below only. Every import counts here, ``TYPE_CHECKING`` ones too: a type that a
   lower floor needs belongs on that floor.
5. The engine's seam: outside ``stepup/engine/`` nothing imports an underscore name of
   ``stepup.engine`` (a private module of it or a private name) or reads an underscore
   attribute of an engine object (``engine._x``, ``self.engine._x``, ``st.engine._x``);
   dunder names are fine.
6. No flow thrown away: a function annotated to return ``Flow[...]``, ``Steps[...]`` or
   ``Call[...]`` is a generator that runs only when driven (``yield from``, ``run``,
   ``arun``), so a statement that is nothing but a call to one is a bug.

Each failure lists every offender (``path:line``) under the rule it breaks.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeGuard

import pytest

#: The floors, lowest first. Each holds paths under ``src/stepup``: ``name/`` is a whole
#: package, any other pattern a module directly in ``stepup/`` (``_*.py``: every private
#: module there that no higher floor names). A module is on the highest floor naming it.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # pure rules and records: errors, clock, config, models, crypto, otp, targets, messages,
    # audit, machine, policy, ratelimit, schemes, twin...
    ("ground", ("_*.py", "grants.py")),
    ("backends", ("methods/", "stores/", "senders/")),
    ("engine", ("engine/",)),  # the flows and the rules only the engine reads
    ("web", ("web/",)),
    ("adapters", ("flask/", "asgi/")),
    ("top", ("__init__.py", "_cli.py", "_cli_settings.py", "_demo.py", "_settings_doc.py", "_worker.py", "testing/")),
)

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stepup"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
TABLE_MARKER = "# table:"
CONTROL_FLOW = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.Match)
FLOW_TYPES = {"Flow", "Steps", "Call"}
#: Calls named like a flow that are plain methods of another library: (module, call).
#: methods of the builtin containers: ``items.remove(x)`` is never a flow of stepup's.
BUILTIN_METHODS = frozenset().union(*(dir(t) for t in (list, dict, set, str, bytes, tuple)))
NOT_FLOWS = {("senders/_smtp.py", "smtp.login")}  # smtplib.SMTP.login, not web's Gate.login

#: One offence: the module (a path under src/stepup), its line (0: the whole), what is wrong.
Offence = tuple[str, int, str]


@dataclass(frozen=True)
class Module:
    name: str  # dotted: stepup.web._pages
    path: str  # under src/stepup: web/_pages.py
    lines: tuple[str, ...]
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.path.endswith("__init__.py") else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    source: str
    target: str  # the stepup module reached (a package's __init__ when the name is no module)
    name: str | None  # the name taken from target; None when target itself is imported
    local: str  # what the importing module calls it
    line: int
    type_only: bool


def _module(path: str, text: str) -> Module:
    parts = ["stepup", *path.removesuffix(".py").split("/")]
    if parts[-1] == "__init__":
        parts.pop()
    return Module(".".join(parts), path, tuple(text.splitlines()), ast.parse(text, path))


@cache
def modules() -> tuple[Module, ...]:
    found = tuple(
        _module(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    )
    assert len(found) > 60  # the whole package was read
    return found


def floor_of(path: str) -> int | None:
    """The index in :data:`FLOORS` of the module at ``path`` (under ``src/stepup``)."""
    for index in reversed(range(len(FLOORS))):
        for pattern in FLOORS[index][1]:
            package = pattern.endswith("/")
            if path.startswith(pattern) if package else "/" not in path and fnmatch.fnmatchcase(path, pattern):
                return index
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# imports ------------------------------------------------------------------------------


def _import_nodes(node: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``node``, with whether only a type checker runs it."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, type_only
        return
    test = node.test if isinstance(node, ast.If) else None
    if isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING"):
        assert isinstance(node, ast.If)
        for child in node.body:
            yield from _import_nodes(child, True)
        for child in node.orelse:
            yield from _import_nodes(child, type_only)
        return
    for child in ast.iter_child_nodes(node):
        yield from _import_nodes(child, type_only)


def imports(module: Module, known: set[str]) -> list[Import]:
    """The imports of stepup modules (the names in ``known``) that ``module`` makes."""
    found = []
    for node, type_only in _import_nodes(module.tree):
        for alias in node.names:
            local = alias.asname or alias.name
            if isinstance(node, ast.Import):
                parts = alias.name.split(".")
                target = next((t for n in range(len(parts), 0, -1) if (t := ".".join(parts[:n])) in known), "")
                name = None
            else:
                package = module.package.split(".")
                base = package[: len(package) - node.level + 1] if node.level else []
                origin = ".".join(base + ([node.module] if node.module else []))
                submodule = f"{origin}.{alias.name}"
                target, name = (submodule, None) if submodule in known else (origin, alias.name)
            if target in known:
                found.append(Import(module.name, target, name, local, node.lineno, type_only))
    return found


def all_imports(mods: Iterable[Module]) -> list[Import]:
    mods = list(mods)
    known = {m.name for m in mods}
    return [i for m in mods for i in imports(m, known)]


# 1 and 2. lengths ---------------------------------------------------------------------


def long_modules(mods: Iterable[Module]) -> list[Offence]:
    return [(m.path, 0, f"{len(m.lines)} lines") for m in mods if len(m.lines) > MAX_MODULE_LINES]


def long_functions(mods: Iterable[Module]) -> list[Offence]:
    found = []
    for m in mods:
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            signature = m.lines[node.lineno - 1 : max(node.lineno, node.body[0].lineno - 1)]
            table = any(TABLE_MARKER in line for line in signature)
            if table and any(isinstance(n, CONTROL_FLOW) for n in ast.walk(node)):
                found.append((m.path, node.lineno, f"{node.name} is marked {TABLE_MARKER!r} but has control flow"))
            elif length > MAX_FUNCTION_LINES and not table:
                found.append((m.path, node.lineno, f"{node.name}: {length} lines"))
    return found


# 3. cycles ----------------------------------------------------------------------------


def import_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """A shortest cycle through each group of modules that reach each other (Tarjan's
    strongly connected components), as a path ending where it starts."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(target, set())
        if source != target:
            graph.setdefault(source, set()).add(target)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for after in sorted(graph[node]):
            if after not in order:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in stack:
                low[node] = min(low[node], order[after])
        if low[node] == order[node]:
            group = set(stack[stack.index(node) :])
            del stack[stack.index(node) :]
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return sorted(_shortest_cycle(graph, group) for group in groups)


def _shortest_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    for node in queue:  # breadth first, inside the group, back to start
        for after in sorted(graph[node] & group):
            if after == start:
                return paths[node] + [start]
            if after not in paths:
                paths[after] = paths[node] + [after]
                queue.append(after)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group has one


# 4. floors ----------------------------------------------------------------------------


def floor_breaches(mods: Iterable[Module]) -> list[Offence]:
    mods = list(mods)
    floors = {m.name: floor_of(m.path) for m in mods}
    paths = {m.name: m.path for m in mods}
    found = {(m.path, 1, "is on no floor of FLOORS") for m in mods if floors[m.name] is None}
    for i in all_imports(mods):
        low, high = floors[i.source], floors[i.target]
        if low is not None and high is not None and high > low:
            found.add((paths[i.source], i.line, f"({FLOORS[low][0]}) imports {i.target} ({FLOORS[high][0]})"))
    return list(found)


# 5. the engine's seam -----------------------------------------------------------------


def _is_engine(node: ast.expr) -> bool:
    """Whether ``node`` names an engine: a name or attribute chain ending in ``engine``."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name.lower().endswith("engine")


def seam_breaches(mods: Iterable[Module]) -> list[Offence]:
    mods = list(mods)
    outside = {m.name: m for m in mods if not m.path.startswith("engine/")}
    found = []
    for i in all_imports(mods):
        if i.source in outside and (i.target + ".").startswith("stepup.engine."):
            names = i.target.split(".")[2:] + ([i.name] if i.name else [])
            if any(_private(n) for n in names):
                shown = f"{i.target}.{i.name}" if i.name else i.target
                found.append((outside[i.source].path, i.line, f"imports {shown}"))
    for m in outside.values():
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and _is_engine(node.value):
                found.append((m.path, node.lineno, f"uses {ast.unparse(node)}"))
    return found


def _package(module: str) -> str | None:
    """The subpackage of stepup a module belongs to (``stepup.web._gate``: ``web``), or
    ``None`` for the top package's own modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and not parts[1].startswith("_")) else None


def private_imports_across_packages(mods: Iterable[Module]) -> list[Offence]:
    """Imports of another subpackage's underscore names: each package's ``__init__`` is its
    API for the others (the engine's seam, generalised to web/, stores/, senders/...)."""
    mods = list(mods)
    paths = {m.name: m.path for m in mods}
    found = []
    for i in all_imports(mods):
        theirs = _package(i.target)
        if theirs is None or theirs == _package(i.source):
            continue
        names = i.target.split(".")[2:] + ([i.name] if i.name else [])
        if any(_private(n) for n in names):
            shown = f"{i.target}.{i.name}" if i.name else i.target
            found.append((paths[i.source], i.line, f"imports {shown}"))
    return found


# 6. flows thrown away -----------------------------------------------------------------


def _flow_defs(module: Module) -> tuple[set[str], set[str]]:
    """The flows ``module`` defines: (its top-level functions, the others: methods, nested)."""
    kinds = FLOW_TYPES | {
        a.asname for n in ast.walk(module.tree) if isinstance(n, ast.ImportFrom)
        for a in n.names if a.asname and a.name in FLOW_TYPES
    }  # fmt: skip

    def is_flow(node: ast.AST) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef]:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        returns = node.returns
        if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
            returns = ast.parse(returns.value, mode="eval").body
        kind = ast.unparse(returns.value).rpartition(".")[2] if isinstance(returns, ast.Subscript) else ""
        return kind in kinds or kind.lstrip("_") in FLOW_TYPES

    top = {n.name for n in module.tree.body if is_flow(n)}
    return top, {n.name for n in ast.walk(module.tree) if is_flow(n)} - top


def flows_not_run(mods: Iterable[Module]) -> list[Offence]:
    """Statements that call a flow and drop it. ``name(...)`` matches the flows the module
    defines or imports; ``module.name(...)`` those of that stepup module; any other
    ``x.name(...)`` the flows defined as methods; ``Call[T](...)`` is a step, alone."""
    mods = list(mods)
    by_name: dict[str, set[str]] = {}  # module -> the flows it can call by a plain name
    inner: dict[str, set[str]] = {}
    for m in mods:
        by_name[m.name], inner[m.name] = _flow_defs(m)
    methods = set().union(*inner.values())
    edges = all_imports(mods)
    for _ in mods:  # flows imported by name, through re-exports too
        grown = [i for i in edges if i.name in by_name[i.target] and i.local not in by_name[i.source]]
        for i in grown:
            by_name[i.source].add(i.local)
        if not grown:
            break
    aliases = {(i.source, i.local): i.target for i in edges if i.name is None}
    found = []
    for m in mods:
        for node in ast.walk(m.tree):
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
                continue
            func = node.value.func
            func = func.value if isinstance(func, ast.Subscript) else func
            if isinstance(func, ast.Name):
                flow = func.id in by_name[m.name] | inner[m.name] or func.id == "Call"
            elif isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value)
                receiver = aliases.get((m.name, owner))
                if receiver:
                    flow = func.attr in by_name[receiver]
                elif owner in {"self", "cls"}:  # a method of this module's classes
                    flow = func.attr in inner[m.name]
                else:  # another object's: any flow method, but no builtin container's own
                    flow = func.attr in methods and func.attr not in BUILTIN_METHODS
                flow = flow and (m.path, ast.unparse(func)) not in NOT_FLOWS
            else:
                flow = False
            if flow:
                found.append((m.path, node.lineno, f"{ast.unparse(node.value)} is never run"))
    return found


# the tests ----------------------------------------------------------------------------


def _shown(offence: Offence) -> str:
    path, line, what = offence
    where = f"{path}:{line}" if line else path
    return f"{where}: {what}" if where else what


def _fail(rule: str, offences: Iterable[Offence]) -> None:
    listed = [_shown(offence) for offence in sorted(set(offences))]
    if listed:
        pytest.fail(f"{rule} ({len(listed)}):\n  " + "\n  ".join(listed), pytrace=False)


def test_no_module_over_400_lines():
    _fail(f"modules over {MAX_MODULE_LINES} lines: split each by job", long_modules(modules()))


def test_no_function_over_60_lines_but_declarative_tables():
    rule = f"functions over {MAX_FUNCTION_LINES} lines: split each into named steps (a pure table: {TABLE_MARKER})"
    _fail(rule, long_functions(modules()))


def test_no_import_cycle():
    cycles = import_cycles((i.source, i.target) for i in all_imports(modules()) if not i.type_only)
    _fail("import cycles among stepup's modules", [("", 0, " -> ".join(c)) for c in cycles])


def test_no_import_from_a_lower_floor_to_a_higher_one():
    _fail("imports from a lower floor to a higher one (FLOORS in tests/test_structure.py)", floor_breaches(modules()))


def test_no_package_imports_another_packages_underscore_names():
    _fail(
        "underscore names of another package imported (use what its __init__ exports)",
        private_imports_across_packages(modules()),
    )


def test_nothing_outside_the_engine_uses_its_underscore_names():
    _fail("underscore names of stepup.engine used outside stepup/engine/", seam_breaches(modules()))


def test_no_flow_is_called_without_being_run():
    _fail("flows called without being run (yield from, run or arun)", flows_not_run(modules()))


# the checks themselves, on small sources -----------------------------------------------


def _lines(offences: Iterable[Offence]) -> list[tuple[str, int]]:
    return sorted((path, line) for path, line, _ in offences)


def test_the_flow_check_catches_a_flow_left_unrun():
    twin = _module("_twin.py", "class Call: pass\nSteps = None\n")
    grants = _module("grants.py", "def end_login(session) -> None: pass\n")
    gate = _module("web/_gate.py", "def end_login(engine, session) -> Flow[bool]:\n    yield\n")
    sample = _module(
        "engine/_sample.py",
        "from .. import grants\n"
        "from .._twin import Call, Steps\n"
        "from .._twin import Steps as Later\n"
        "def fetch(store) -> Steps[int]:\n"
        "    return (yield from Call[int](store, 'get'))\n"
        "class Pages:\n"
        "    def later(self, store) -> 'Later[int]':\n"
        "        return (yield from fetch(store))\n"
        "    def page(self, store) -> Steps[None]:\n"
        "        fetch(store)\n"  # line 10: thrown away
        "        yield from fetch(store)\n"
        "        self.later(store)\n"  # line 12: thrown away, a method returning an alias of Steps
        "        Call[None](store, 'put')\n"  # line 13: a call step, alone
        "        value = fetch(store)\n"  # kept, so it may still be run
        "        grants.end_login({})\n"  # a plain function that shares a flow's name
        "        print(value)\n",
    )
    assert _lines(flows_not_run([twin, grants, gate, sample])) == [
        ("engine/_sample.py", 10), ("engine/_sample.py", 12), ("engine/_sample.py", 13),
    ]  # fmt: skip


def test_the_seam_check_catches_underscore_names_of_the_engine():
    engine = _module("engine/_verify.py", "def _check(): pass\ndef verify(): pass\n")
    package = _module("engine/__init__.py", "from ._verify import verify as verify\n")
    web = _module(
        "web/_sample.py",
        "from ..engine import verify\n"
        "from ..engine._verify import verify\n"  # line 2: a private module
        "from ..engine import _verify\n"  # line 3
        "def page(self, st, engine):\n"
        "    self.engine._run()\n"  # line 5
        "    st.engine._x\n"  # line 6
        "    engine.__class__, engine.verify(), self._other\n",
    )
    assert _lines(seam_breaches([engine, package, web])) == [("web/_sample.py", n) for n in (2, 3, 5, 6)]


def test_the_length_check_takes_a_marked_table_but_no_marked_logic():
    table = "def commands():  # table: every command\n    return [\n" + "        1,\n" * 70 + "    ]\n"
    logic = "def steps():  # table: not really\n    if True:\n        pass\n"
    plain = "def long():\n" + "    pass\n" * 60
    offences = long_functions([_module("_a.py", table), _module("_b.py", logic), _module("_c.py", plain)])
    assert _lines(offences) == [("_b.py", 1), ("_c.py", 1)]


def test_the_cycle_check_names_each_cycle_once():
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "a"), ("g", "g")]
    assert import_cycles(edges) == [["a", "b", "c", "a"], ["d", "e", "d"]]


def test_the_floors_place_modules_as_the_docstring_says():
    assert [FLOORS[floor_of(p) or 0][0] for p in ("_errors.py", "_cli.py", "engine/_verify.py", "web/_pages.py")] == [
        "ground", "top", "engine", "web",
    ]  # fmt: skip
    assert floor_of("elsewhere/_x.py") is None
    breach = _module("_models.py", "from .web import _pages\nfrom . import _errors\n")
    found = floor_breaches([breach, _module("web/_pages.py", ""), _module("_errors.py", "")])
    assert found == [("_models.py", 1, "(ground) imports stepup.web._pages (web)")]
