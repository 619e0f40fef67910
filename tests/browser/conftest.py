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

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.support.servers import APPS, Server, serve_example

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

expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class Example:
    """One example app: its name in test ids and folders, and its module."""

    name: str
    module: str


class Shots:
    """Screenshots of the pages a test visits: ``<folder>/NN-name.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        for attempt in range(3):
            try:
                page.screenshot(path=str(path), full_page=True)
                break
            except PlaywrightError as e:
                # Headless Chromium now and then has no frame to capture on a loaded machine
                # ("Unable to capture screenshot"); the next capture of the same page has one.
                if "Unable to capture screenshot" not in str(e) or attempt == 2:
                    raise
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


@pytest.fixture
def server(example: Example, tmp_path: Path, output_dir: Path) -> Iterator[Server]:
    """``python -m <example>`` on a free loopback port with its own store, ledger and
    outbox (:func:`tests.support.servers.serve_example`); stopped at teardown. Its output
    goes to ``server.log`` in the output folder."""
    with serve_example(example.module, tmp_path, output_dir / "server.log") as running:
        yield running


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A page in a fresh browser context (its own cookies) on the server's base URL."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1000, "height": 760})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
