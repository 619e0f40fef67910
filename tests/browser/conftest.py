"""The browser suite: Playwright driving Debian's Chromium against an example bank served on
loopback by a real server process, with the ``file://`` sender so codes are read from its
outbox. One suite for every example app: the ``example`` fixture is parametrised over
:data:`APPS`, and each test runs once per app.

Each test gets its own server (fresh SQLite store, ledger and outbox, so no lock-out or
transfer leaks from one test into the next), its own browser context in one shared
browser, and a folder ``test-output/browser/<app>/<test>/`` holding a screenshot of every
page it visits (``NN-name.png``) and the server's log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

#: the example apps the suite drives: (name, the module that ``python -m`` serves).
APPS = [
    ("flask", "examples.flask_app"),
    ("starlette", "examples.starlette_app"),
]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: carol's TOTP secret in every server this suite starts (not the demo default).
TOTP_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWC4TE"
#: attempts to reach a starting server, POLL_INTERVAL seconds apart.
POLL_TRIES, POLL_INTERVAL = 300, 0.05

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class Example:
    """One example app: its name in test ids and folders, and its module."""

    name: str
    module: str


class Outbox:
    """The ``file://`` sender's JSON lines: ``channel``, ``to``, ``subject``, ``body``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[dict[str, Any]]:
        """Every message sent so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def last_to(self, to: str) -> dict[str, Any]:
        """The newest message to ``to``."""
        mine = [m for m in self.messages() if m["to"] == to]
        assert mine, f"nothing was sent to {to}; outbox: {self.messages()}"
        return mine[-1]

    def code_for(self, to: str) -> str:
        """The code in the newest message to ``to`` (its first run of six digits)."""
        body = self.last_to(to)["body"]
        match = _CODE.search(body)
        assert match is not None, f"no code in {body!r}"
        return match.group(1)


@dataclass
class Server:
    """A running example: its base URL, outbox, and carol's TOTP secret."""

    url: str
    outbox: Outbox
    totp_secret: str = TOTP_SECRET


class Shots:
    """Screenshots of the pages a test visits: ``<folder>/NN-name.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


# -- the browser: one for the suite --------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a browser build that Playwright downloads).

    Module scope, not session: while Playwright's sync API is open, its event loop counts
    as running in this thread, and ``asyncio.run()`` in the tests that come after the
    browser suite (the ASGI ones) would fail. The suite is one module, so one browser."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, or `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# -- the example app under test ----------------------------------------------------------


@pytest.fixture(params=APPS, ids=[name for name, _ in APPS])
def example(request: pytest.FixtureRequest) -> Example:
    """The example app this run of the test drives."""
    name, module = request.param
    return Example(name, module)


@pytest.fixture
def output_dir(request: pytest.FixtureRequest, example: Example) -> Path:
    """``test-output/browser/<app>/<test>/``, emptied for this run."""
    folder = request.config.rootpath / "test-output" / "browser" / example.name / request.node.originalname
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def shots(output_dir: Path) -> Shots:
    """``shots(page, name)`` saves a screenshot of the page under the output folder."""
    return Shots(output_dir)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as error:  # it answers, if not with 200
        error.close()
        return True
    except OSError:  # refused, reset, or not listening yet
        return False


@pytest.fixture
def server(example: Example, tmp_path: Path, output_dir: Path) -> Iterator[Server]:
    """``python -m <example>`` on a free loopback port with its own store, ledger and
    outbox; stopped at teardown. Its output goes to ``server.log`` in the output folder."""
    port = _free_port()
    outbox = tmp_path / "outbox.jsonl"
    env = {
        **os.environ,
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "STEPUP_STORE_URL": f"sqlite:///{tmp_path / 'stepup.db'}",
        "DEMO_BANK_DB": str(tmp_path / "bank.db"),
        "STEPUP_SMS_URL": f"file://{outbox}",
        "STEPUP_EMAIL_URL": f"file://{outbox}",
        "DEMO_TOTP_SECRET": TOTP_SECRET,
    }
    url = f"http://127.0.0.1:{port}"
    log_path = output_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", example.module], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(POLL_TRIES):
                if process.poll() is not None:
                    pytest.fail(f"{example.module} exited with {process.returncode}:\n{log_path.read_text()}")
                if _answers(f"{url}/login"):
                    break
                try:
                    process.wait(POLL_INTERVAL)
                except subprocess.TimeoutExpired:
                    pass
            else:
                pytest.fail(f"{example.module} did not answer on {url}:\n{log_path.read_text()}")
            yield Server(url=url, outbox=Outbox(outbox))
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A page in a fresh browser context (its own cookies) on the server's base URL."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1000, "height": 760})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
