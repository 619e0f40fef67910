"""The bank's login workflow in a real browser, on each example app: "Call me instead" on
the code page, held with a live countdown until its step is due (the browser's clock run
forward by Playwright), then enabled; pressed when due, the call brings the same code to
alice's phone through the bank's outbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Example
from tests.browser.test_bank_in_browser import ALICE_PHONE, at_home, choose, enter_code, sign_in
from tests.support.servers import Server, serve_example


@pytest.fixture
def login_workflow() -> str | None:
    """The bank's own login workflow (``sms:120,voice``); a test may name a quicker one."""
    return None


@pytest.fixture
def server(example: Example, tmp_path: Path, output_dir: Path, login_workflow: str | None) -> Iterator[Server]:
    """The example, with ``login_workflow`` for alice's logins when a test names one."""
    env = {"STEPUP_WORKFLOWS_BY_PURPOSE": json.dumps({"login": login_workflow})} if login_workflow else {}
    with serve_example(example.module, tmp_path, output_dir / "server.log", **env) as running:
        yield running


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_call_me_instead_waits_for_its_time_with_a_countdown(page: Page, server, shots):
    page.clock.install()  # the page's timers and Date on a clock the test runs forward
    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    button = page.locator("#next-step")

    expect(button).to_be_disabled()
    expect(button).to_have_text(re.compile(r"^Call me instead \(in 1[12]\d s\)$"))
    shots(page, "call-me-waiting")
    page.clock.fast_forward(60_000)
    expect(button).to_have_text(re.compile(r"^Call me instead \(in [56]\d s\)$"))
    expect(button).to_be_disabled()
    page.clock.fast_forward(61_000)
    expect(button).to_be_enabled()
    expect(button).to_have_text("Call me instead")
    shots(page, "call-me-due")
    assert [m for m in server.outbox.messages() if m["channel"] == "voice"] == []


@pytest.mark.parametrize("login_workflow", ["sms:3,voice"])
def test_call_me_instead_calls_with_the_same_code_when_due(page: Page, server, shots):
    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    code = server.outbox.code_for(ALICE_PHONE)
    button = page.get_by_role("button", name=re.compile(r"^Call me instead"))

    expect(button).to_be_disabled()
    expect(button).to_be_enabled()  # once its three seconds have passed (expect polls)
    button.click()

    expect(page.get_by_text("We are calling you with the code.")).to_be_visible()
    shots(page, "calling")
    call = server.outbox.last_to(ALICE_PHONE)
    assert call["channel"] == "voice" and code in _digits(call["body"])
    enter_code(page, shots, code)
    at_home(page, shots, "alice")
