"""The example bank in a real browser: 2FA at login (SMS, binding a phone, TOTP), a transfer
approved with its one-time code and executed exactly once, and a code used up by wrong
guesses. Every test runs against each example app (see ``APPS`` in conftest.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Page, expect

ALICE_PHONE = "+447700900001"
BOB_PHONE = "+447700900002"


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def sign_in(page: Page, shots, username: str) -> None:
    """The bank's own login form, with the demo password."""
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"{username}-password")
    shots(page, "login")
    page.get_by_role("button", name="Sign in").click()


def choose(page: Page, shots, method: str, heading: str) -> None:
    """stepup's chooser: pick the method whose label starts with ``method``, continue."""
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    page.get_by_role("radio", name=re.compile(f"^{re.escape(method)}")).check()
    shots(page, "choose")
    page.get_by_role("button", name="Continue").click()


def enter_code(page: Page, shots, code: str, name: str = "code") -> None:
    """stepup's code page: type the code, verify."""
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(code)
    shots(page, name)
    page.get_by_role("button", name="Verify").click()


def at_home(page: Page, shots, username: str) -> None:
    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    assert _path(page) == "/"
    shots(page, "home")


def test_alice_signs_in_with_an_sms_code(page: Page, server, shots):
    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    expect(page.get_by_text("We sent a code to")).to_be_visible()
    message = server.outbox.last_to(ALICE_PHONE)
    assert message["channel"] == "sms"
    enter_code(page, shots, server.outbox.code_for(ALICE_PHONE))
    at_home(page, shots, "alice")


def test_bob_binds_a_phone_at_his_first_sign_in(page: Page, server, shots):
    sign_in(page, shots, "bob")
    expect(page.get_by_role("heading", name="Add your mobile number")).to_be_visible()
    page.get_by_label("Mobile number").fill(BOB_PHONE)
    shots(page, "bind-phone")
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    message = server.outbox.last_to(BOB_PHONE)
    assert message["channel"] == "sms" and "confirms this phone number" in message["body"]
    enter_code(page, shots, server.outbox.code_for(BOB_PHONE))
    at_home(page, shots, "bob")
    page.goto("/account")
    expect(page.locator("main")).to_contain_text("0002")  # bob's new phone, masked
    shots(page, "account")


def test_carol_signs_in_with_her_authenticator_app(page: Page, server, shots):
    sign_in(page, shots, "carol")
    # Her one method: no choose page, straight to the code, inside the bank's own layout.
    expect(page.get_by_text("Open your authenticator app")).to_be_visible()
    expect(page.get_by_role("navigation", name="Demo Bank")).to_contain_text("Log out")
    expect(page.get_by_role("link", name="Use another method")).to_have_count(0)
    enter_code(page, shots, pyotp.TOTP(server.totp_secret).now())  # the server's DEMO_TOTP_SECRET
    at_home(page, shots, "carol")
    assert server.outbox.messages() == []  # a TOTP sign-in sends nothing


def _sign_in_alice(page: Page, server, shots) -> None:
    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    enter_code(page, shots, server.outbox.code_for(ALICE_PHONE))
    at_home(page, shots, "alice")


def _transfers(page: Page, shots, name: str) -> list[str]:
    page.goto("/transfers")
    expect(page.get_by_role("heading", name="Your transfers")).to_be_visible()
    shots(page, name)
    return [text.strip() for text in page.locator("#transfers li").all_inner_texts()]


def test_alice_approves_a_transfer_that_runs_exactly_once(page: Page, server, shots):
    _sign_in_alice(page, server, shots)
    page.get_by_role("link", name="Make a transfer").click()
    expect(page.get_by_role("heading", name="Make a transfer")).to_be_visible()
    page.get_by_label("To").fill("bob")
    page.get_by_label("Amount").fill("25.00")
    shots(page, "transfer-form")
    page.get_by_role("button", name="Send money").click()

    choose(page, shots, "Text message", "Approve this request")
    expect(page.get_by_text("transfer of 25.00 to bob")).to_be_visible()
    message = server.outbox.last_to(ALICE_PHONE)
    assert "approves transfer of 25.00 to bob" in message["body"]
    enter_code(page, shots, server.outbox.code_for(ALICE_PHONE), "approve")
    expect(page.get_by_role("heading", name="Transferred 25.00 to bob")).to_be_visible()
    shots(page, "transferred")
    sent = len(server.outbox.messages())

    # Reload: the browser sends the approving POST again, with the used approval. Not run
    # again, and no error: the user is told it was sent and to check whether it went through.
    response = page.reload()
    assert response is not None and response.request.method == "POST"
    expect(page.get_by_role("heading", name="Already done")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Check whether the transfer of 25.00 to bob went through")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("link", name="Continue")).to_be_visible()  # not "Get a new code": it is done
    shots(page, "reloaded")

    # Back through the history to the transfer form; no page on the way runs it again.
    for _ in range(5):
        page.go_back()
        expect(page.locator("body")).not_to_contain_text("Transferred")
        shots(page, "back")
        if _path(page) == "/transfer":
            break
    assert _path(page) == "/transfer"
    expect(page.get_by_role("heading", name="Make a transfer")).to_be_visible()
    # The same form, submitted again: a new operation, which needs its own approval.
    page.get_by_label("To").fill("bob")
    page.get_by_label("Amount").fill("25.00")
    page.get_by_role("button", name="Send money").click()
    expect(page.get_by_role("heading", name="Approve this request")).to_be_visible()
    expect(page.get_by_text("transfer of 25.00 to bob")).to_be_visible()
    shots(page, "approve-again")
    assert len(server.outbox.messages()) == sent  # no code is sent before a method is chosen

    assert _transfers(page, shots, "transfers") == ["25.00 to bob"]


def test_three_wrong_codes_use_up_the_code_and_a_new_one_is_offered(page: Page, server, shots):
    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    right = server.outbox.code_for(ALICE_PHONE)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in ("2 attempts left", "1 attempt left"):
        enter_code(page, shots, wrong, "wrong-code")
        expect(page.get_by_role("alert")).to_contain_text(f"not right. {left}")
    enter_code(page, shots, wrong, "wrong-code")

    expect(page.get_by_role("heading", name="This code no longer works")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("no attempts are left")
    expect(page.get_by_label("Code", exact=True)).to_have_count(0)
    shots(page, "code-used-up")
    sent = len(server.outbox.messages())
    page.get_by_role("link", name="Get a new code").click()

    choose(page, shots, "Text message", "Verify it's you")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.locator("#code-help")).to_contain_text("3 attempts left")
    shots(page, "new-code")
    assert len(server.outbox.messages()) == sent + 1
