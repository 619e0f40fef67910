"""The support console in a real browser, on each example app: bob lost his phone; alice,
the bank's admin, finds him, resets his methods, and bob binds a new phone at his next
sign-in. The bank's /metrics counted the codes sent meanwhile."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_bank_in_browser import ALICE_PHONE, BOB_PHONE, at_home, choose, enter_code, sign_in

NEW_PHONE = "+447700900022"


def bind_phone(page: Page, server, shots, phone: str) -> None:
    expect(page.get_by_role("heading", name="Add your mobile number")).to_be_visible()
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_role("button", name="Send code").click()
    enter_code(page, shots, server.outbox.code_for(phone), "bind-code")


def log_out(page: Page) -> None:
    page.goto("/transfers")  # the bank's own page, with its "Log out" button
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_alice_resets_bobs_lost_phone_from_the_support_console(page: Page, server, shots):
    sign_in(page, shots, "bob")
    bind_phone(page, server, shots, BOB_PHONE)
    at_home(page, shots, "bob")
    log_out(page)

    sign_in(page, shots, "alice")
    choose(page, shots, "Text message", "Verify it's you")
    enter_code(page, shots, server.outbox.code_for(ALICE_PHONE))
    at_home(page, shots, "alice")
    page.get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Support")).to_be_visible()
    page.get_by_label("User id").fill("bob")
    page.get_by_role("button", name="Find").click()
    main = page.locator("main")
    expect(main).to_contain_text("0002")  # bob's phone, masked
    expect(main).not_to_contain_text(BOB_PHONE)
    expect(page.locator("#events")).to_contain_text("login_passed")
    shots(page, "console-bob")
    page.get_by_role("button", name="Reset every sign-in method of bob").click()
    expect(page.get_by_role("status")).to_contain_text("Every method was removed")
    expect(page.locator("#events")).to_contain_text("admin_action by alice")
    shots(page, "console-reset")
    assert "support reset your sign-in methods" in server.outbox.last_to(BOB_PHONE)["body"]
    log_out(page)

    sign_in(page, shots, "bob")
    bind_phone(page, server, shots, NEW_PHONE)
    at_home(page, shots, "bob")

    page.goto("/metrics")
    # alice's login, and bob's two first bindings (each lifted his login's hold)
    expect(page.locator("body")).to_contain_text('stepup_challenges_passed_total{method="sms",purpose="bind"} 2.0')
    expect(page.locator("body")).to_contain_text('stepup_challenges_passed_total{method="sms",purpose="login"} 1.0')
    shots(page, "metrics")
