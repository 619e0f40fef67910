"""No user-facing text escapes translation: every word a template shows is inside ``_t()``
or ``_tn()``, and every message stepup's errors, pages and forms carry is made with
``T()``, ``Tn()`` or ``N_()``. A text written without one fails here, naming its place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jinja2 import Environment, nodes

import stepup
from stepup import _errors

ROOT = Path(stepup.__file__).parent
TEMPLATES = sorted((ROOT / "templates" / "stepup").glob("*.html"))
WORDS = re.compile(r"[^\W\d_]{2,}")
#: attributes people read (screen readers, tooltips, empty fields).
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"{]*)"')


def _bare_text(template: Path) -> list[str]:
    """The words of ``template`` outside any translation call: in its HTML text, in the
    attributes people read, and in string constants it prints that read as words."""
    source = template.read_text()
    # A block holding a CSS class (main_class) is no text.
    html = re.sub(r"\{%\s*block main_class\s*%\}.*?\{%\s*endblock\s*%\}", " ", source, flags=re.S)
    html = re.sub(r"\{#.*?#\}", " ", html, flags=re.S)
    html = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "\x00", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    found = [value for value in READ_ATTRIBUTES.findall(html) if WORDS.search(value)]
    found += WORDS.findall(re.sub(r"<[^>]*>|&\w+;", " ", html))
    tree = Environment().parse(source)
    for output in tree.find_all(nodes.Output):
        for const in output.find_all(nodes.Const):
            if isinstance(const.value, str) and re.search(r"[A-Z]|\s", const.value) and WORDS.search(const.value):
                if not _inside_translation(output, const):
                    found.append(const.value)
    return found


def _inside_translation(root: nodes.Node, const: nodes.Const) -> bool:
    for call in root.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in ("_t", "_tn"):
            if any(c is const for c in call.find_all(nodes.Const)):
                return True
    return False


def test_every_word_a_template_shows_goes_through_a_translation_call():
    bare = {template.name: words for template in TEMPLATES if (words := _bare_text(template))}
    assert bare == {}


def test_the_template_check_finds_a_bare_word(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<h1>Hello</h1><p title="Hint">{{ _t("Fine") }} {{ "Shown as is" }}</p>')
    assert _bare_text(page) == ["Hint", "Hello", "Shown as is"]


#: the errors whose message a person reads; ConfigurationError is the operator's, at start-up.
ERRORS = set(_errors.__all__) - {"ConfigurationError", "StepUpError"} | {
    "LastMethod", "OperationUnreadable", "UnsupportedMediaType", "_BadRequest", "ValidationError",
}  # fmt: skip
#: calls whose text arguments are shown: page titles and messages, form labels and checks.
SHOWN = {"message": (1, 2), "stopped": (3, 4), "StringField": (0,), "RadioField": (0,), "BooleanField": (0,),
         "DataRequired": (0,), "InputRequired": (0,), "TargetInput": (0,)}  # fmt: skip
SHOWN_KEYWORDS = {"title", "message", "heading", "hint"}
MARKS = {"T", "Tn", "N_"}


def _plain_text(node: ast.expr) -> bool:
    """A literal string or f-string that reads as words (not a mark's result)."""
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(WORDS.search(node.value))


def _unmarked(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):  # a problem document's title or detail
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("title", "detail") and _plain_text(value):
                    found.append(f"{path.relative_to(ROOT)}:{value.lineno} {key.value}")
    for call in ast.walk(ast.parse(path.read_text())):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        positions = (0,) if name in ERRORS else SHOWN.get(name, ())
        args = [call.args[i] for i in positions if i < len(call.args)]
        if name in ERRORS or name in SHOWN:
            args += [k.value for k in call.keywords if k.arg in SHOWN_KEYWORDS]
        if name == "page":
            args += [k.value for k in call.keywords if k.arg == "title"]
        found += [f"{path.relative_to(ROOT)}:{arg.lineno} {name}" for arg in args if _plain_text(arg)]
    return found


def test_every_message_a_person_reads_is_marked_for_translation():
    places = ["web", "engine", "methods", "senders"]
    files = [p for place in places for p in (ROOT / place).rglob("*.py")]
    files += [ROOT / name for name in ("_errors.py", "_machine.py", "_targets.py", "_ratelimit.py", "_otp.py")]
    assert [line for path in sorted(files) for line in _unmarked(path)] == []


def test_the_code_check_finds_an_unmarked_message(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        'raise WrongCode("Nope.", 2)\nraise WrongCode(T("Fine."), 2)\ncore.message(req, "Title", T("ok"), 400)\n'
        'body = {"title": "Sign in.", "code": "not_signed_in"}\n'
    )
    assert [line.split(" ", 1)[1] for line in _unmarked_at(module)] == ["title", "WrongCode", "message"]


def _unmarked_at(path: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return _unmarked(path)
    finally:
        ROOT = saved
