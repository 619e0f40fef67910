"""Every Python snippet in README.md and docs/*.md runs.

The convention, for whoever writes docs:

- Every fenced block opened with ```` ```python ```` runs, so a new snippet is tested by
  default.
- The blocks of one page run in order in one namespace: a later block may use what an
  earlier one defined (``engine``, ``app``...).
- A block that cannot run (it needs a provider's real credentials, say) is a fragment: put
  ``<!-- fragment: why -->`` on the line before its fence. The reason is required.
- A page may get a small prelude below (``PRELUDES``) for what a reader has already (a
  secret key ``KEY``, the Flask ``app`` of the README), the environment it reads
  (``ENVIRON``) and the plug-ins it says are installed (``INSTALLED``). Prefer a snippet
  that is complete itself.

Each page runs in a fresh working directory (SQLite files land there), with a fresh
``STEPUP_*`` environment, and nothing reaches the network: snippets that name a provider
only build the engine, and a server is never started (an app is driven by a test client).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from tests.support.plugins import install_plugin

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```python\s*$")
_FRAGMENT = re.compile(r"^<!--\s*fragment:\s*(\S.*?)\s*-->\s*$")

# What a reader of the page already has: every page a key, some more. Kept small.
_KEY = 'KEY = "k" * 32  # a secret key, as `stepup secret` prints\n'
_FLASK_APP = "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
PRELUDES: dict[str, str] = {
    "README.md": _FLASK_APP,  # its quickstart goes into "an existing Flask app"
}

# The environment a page's snippets read (`os.environ[...]`), as a deployment sets it.
ENVIRON: dict[str, dict[str, str]] = {
    "flask.md": {"SECRET_KEY": "f" * 32, "STEPUP_SECRET_KEY": "k" * 32},
    "asgi.md": {"SESSION_KEY": "s" * 32, "STEPUP_SECRET_KEY": "k" * 32, "STEPUP_STORE_URL": "memory://"},
}

# Pages that say "with the example installed": the plug-in of tests/plugins/, installed
# while a block that names it (`"voice"`) runs; the page's other blocks run without it, as
# an engine with a plug-in installed needs a sender for the plug-in's channel.
INSTALLED: dict[str, str] = {"extending.md": "voice"}


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The runnable Python blocks of a page: (line of the fence, source), fragments left out.

    :raises AssertionError: for a fragment marker without a reason, or an unclosed fence.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if not _FENCE.match(lines[i]):
            if lines[i].strip().startswith("<!-- fragment"):
                assert _FRAGMENT.match(lines[i].strip()), f"{page.name}:{i + 1}: say why: <!-- fragment: reason -->"
            i += 1
            continue
        start = i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"{page.name}:{start + 1}: unclosed code block"
        previous = lines[start - 1].strip() if start else ""
        if not _FRAGMENT.match(previous):
            # Pad with blank lines so a traceback's line numbers are the page's.
            blocks.append((start + 1, "\n" * (start + 1) + "\n".join(lines[start + 1 : end]) + "\n"))
        i = end + 1
    return blocks


_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a snippet reach this machine only: a name look-up or a connection elsewhere fails
    the test (a snippet that names a provider must only build its sender)."""
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def checked_lookup(host: object, *args: object, **kwargs: object) -> object:
        if host not in _LOOPBACK and host is not None:
            raise AssertionError(f"a doc snippet looked up {host!r}")
        return lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    def checked_connect(sock: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and address[0] not in _LOOPBACK:
            raise AssertionError(f"a doc snippet connected to {address!r}")
        connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", checked_lookup)
    monkeypatch.setattr(socket.socket, "connect", checked_connect)


def run_page(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the page's blocks in order in one namespace, after its prelude.

    :raises AssertionError: naming the page and line of the first block that fails.
    """
    blocks = python_blocks(page)
    _no_network(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("STEPUP_")]:
        monkeypatch.delenv(name)
    for name, value in ENVIRON.get(page.name, {}).items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    prelude = _KEY + PRELUDES.get(page.name, "")
    exec(compile(prelude, f"<prelude of {page.name}>", "exec"), namespace)
    plugin = INSTALLED.get(page.name)
    for line, source in blocks:
        try:
            with pytest.MonkeyPatch.context() as installed:
                if plugin and f'"{plugin}"' in source:
                    install_plugin(plugin, installed, tmp_path / f"site{line}")
                exec(compile(source, str(page), "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{page.name}: the snippet at line {line} fails: {e!r}") from e


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_python_snippets_of_the_page_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_page(page, tmp_path, monkeypatch)


def test_a_snippet_that_reaches_the_network_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.md"
    page.write_text('```python\nimport socket\nsocket.create_connection(("example.com", 80))\n```\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="looked up 'example.com'"):
        run_page(page, tmp_path, monkeypatch)


def test_a_fragment_needs_a_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- fragment -->\n```python\nraise SystemExit\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="say why"):
        python_blocks(page)


def test_blocks_run_unless_marked_as_fragments(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\na = 1\n```\n\n<!-- fragment: needs real credentials -->\n```python\nb = 2\n```\n"
        "```py\nc = 3\n```\n",
        encoding="utf-8",
    )
    assert [line for line, _ in python_blocks(page)] == [1]
