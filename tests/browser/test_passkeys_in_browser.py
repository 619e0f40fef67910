"""Passkeys in a real browser: Chromium's virtual authenticator (CDP's WebAuthn domain, a
CTAP2 platform authenticator with resident keys and user verification) on each example
bank. carol adds a passkey on the account page, signs out, signs in with her password and
the passkey, approves a transfer with it (it runs once), and removes it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_bank_in_browser import choose, enter_code, sign_in


@pytest.fixture
def passkey_page(browser: Browser, server) -> Iterator[Page]:
    """A page on http://localhost:<port> (an IP address cannot be a passkey's relying
    party) with a virtual authenticator attached."""
    context = browser.new_context(base_url=server.url.replace("127.0.0.1", "localhost"))
    context.set_default_timeout(10_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }  # fmt: skip
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    page.authenticator = (cdp, authenticator["authenticatorId"])  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def credentials(page: Page) -> list[dict]:
    cdp, authenticator_id = page.authenticator  # type: ignore[attr-defined]
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def use_passkey(page: Page, shots, name: str) -> None:
    expect(page.get_by_role("heading", name="Use your passkey")).to_be_visible()
    shots(page, name)
    page.get_by_role("button", name="Use passkey").click()


def test_carol_adds_a_passkey_signs_in_and_approves_a_transfer_with_it(passkey_page: Page, server, shots):
    page = passkey_page
    sign_in(page, shots, "carol")
    # Her one method skips the choose page: its code page comes at once.
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    enter_code(page, shots, pyotp.TOTP(server.totp_secret).now())
    expect(page.get_by_role("heading", name="Welcome, carol")).to_be_visible()

    page.goto("/stepup/account")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("Carol's laptop")
    shots(page, "add-passkey")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Create your passkey")).to_be_visible()
    shots(page, "create-passkey")
    page.get_by_role("button", name="Create passkey").click()
    expect(page.get_by_text("Added.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Carol's laptop")
    shots(page, "account-with-passkey")
    assert len(credentials(page)) == 1 and credentials(page)[0]["isResidentCredential"]

    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    sign_in(page, shots, "carol")
    choose(page, shots, "Passkey", "Verify it's you")
    use_passkey(page, shots, "sign-in-passkey")
    expect(page.get_by_role("heading", name="Welcome, carol")).to_be_visible()
    shots(page, "home")

    page.goto("/transfer")
    page.get_by_label("To").fill("bob")
    page.get_by_label("Amount").fill("40.00")
    page.get_by_role("button", name="Send money").click()
    choose(page, shots, "Passkey", "Approve this request")
    expect(page.get_by_text("transfer of 40.00 to bob")).to_be_visible()
    use_passkey(page, shots, "approve-passkey")
    expect(page.get_by_role("heading", name="Transferred 40.00 to bob")).to_be_visible()
    shots(page, "transferred")
    page.goto("/transfers")
    assert [t for t in page.locator("#transfers li").all_inner_texts() if "40.00" in t] != []
    assert len([t for t in page.locator("#transfers li").all_inner_texts() if "40.00" in t]) == 1

    page.goto("/stepup/account")
    page.get_by_role("button", name=re.compile("^Remove Passkey")).click()
    expect(page.get_by_text("Removed.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Carol's laptop")
    shots(page, "passkey-removed")


def test_a_browser_without_webauthn_is_offered_the_other_methods(passkey_page: Page, server, shots):
    page = passkey_page
    page.add_init_script("delete window.PublicKeyCredential;")
    sign_in(page, shots, "carol")
    # Her one method skips the choose page: its code page comes at once.
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    enter_code(page, shots, pyotp.TOTP(server.totp_secret).now())
    page.goto("/stepup/passkeys/add")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This browser cannot use passkeys.")).to_be_visible()
    expect(page.get_by_role("button", name="Create passkey")).to_be_hidden()
    shots(page, "no-webauthn")
