"""The bank in Chromium set to Chinese and to German: 2FA at login, a step-up's code page
and an approval in the browser's language, inside the bank's own layout (its navigation
stays on stepup's pages). Screenshots of each page go to the test's output folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect

ALICE_PHONE = "+447700900001"


@contextmanager
def _localized(browser: Browser, server, locale: str) -> Iterator[Page]:
    """A page in a browser context whose language is ``locale`` (its ``Accept-Language``
    and ``navigator.language``)."""
    context = browser.new_context(base_url=server.url, locale=locale, viewport={"width": 1000, "height": 760})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


WORDS = {
    "zh-CN": {
        "lang": "zh-Hans", "verify": "验证您的身份", "continue": "继续", "enter": "输入验证码", "code": "验证码",
        "button": "验证", "attempts": "还剩 3 次机会", "approve": "批准此请求", "sms": "短信",
    },
    "de-DE": {
        "lang": "de", "verify": "Bestätigen Sie, dass Sie es sind", "continue": "Weiter", "enter": "Code eingeben",
        "code": "Code", "button": "Bestätigen", "attempts": "Noch 3 Versuche", "approve": "Diese Anfrage genehmigen",
        "sms": "SMS",
    },
}  # fmt: skip


def _code_page(page: Page, shots, words: dict[str, str], code: str, name: str) -> None:
    expect(page.get_by_role("heading", name=words["enter"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    expect(page.get_by_role("navigation", name="Demo Bank")).to_be_visible()  # the bank's own layout
    expect(page.locator("#code-help")).to_contain_text(words["attempts"])
    page.get_by_label(words["code"], exact=True).fill(code)
    shots(page, name)
    page.get_by_role("button", name=words["button"], exact=True).click()


def test_alice_in_chinese(browser: Browser, server, shots):
    with _localized(browser, server, "zh-CN") as page:
        _signs_in_and_approves_a_transfer(page, server, shots, WORDS["zh-CN"])


def test_alice_in_german(browser: Browser, server, shots):
    with _localized(browser, server, "de-DE") as page:
        _signs_in_and_approves_a_transfer(page, server, shots, WORDS["de-DE"])


def _signs_in_and_approves_a_transfer(page: Page, server, shots, words: dict[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name=words["verify"])).to_be_visible()
    expect(page.get_by_role("navigation", name="Demo Bank")).to_be_visible()
    page.get_by_role("radio", name=re.compile(f"^{words['sms']}")).check()
    shots(page, "choose")
    page.get_by_role("button", name=words["continue"]).click()
    _code_page(page, shots, words, server.outbox.code_for(ALICE_PHONE), "code")
    expect(page.get_by_role("heading", name="Welcome, alice")).to_be_visible()

    page.goto("/transfer")
    page.get_by_label("To").fill("bob")
    page.get_by_label("Amount").fill("25.00")
    page.get_by_role("button", name="Send money").click()
    expect(page.get_by_role("heading", name=words["approve"])).to_be_visible()
    page.get_by_role("radio", name=re.compile(f"^{words['sms']}")).check()
    shots(page, "approve")
    page.get_by_role("button", name=words["continue"]).click()
    _code_page(page, shots, words, server.outbox.code_for(ALICE_PHONE), "approve-code")
    expect(page.get_by_role("heading", name="Transferred 25.00 to bob")).to_be_visible()
    shots(page, "transferred")
