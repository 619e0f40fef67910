"""The support console and the passkey pages sit in the demo bank's layout
(``STEPUP_BASE_TEMPLATE``) like every stepup page, its navigation kept, and speak the
browser's language, on both adapters."""

from __future__ import annotations

from tests.security.test_support_console import CONSOLE, admin, give_bob_a_phone
from tests.support.passkeys import options_of

NAV = '<nav aria-label="Demo Bank">'
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
DE = {"Accept-Language": "de-DE,de;q=0.9"}


def test_the_console_keeps_the_banks_navigation_and_speaks_chinese(bank):
    give_bob_a_phone(bank)
    browser = admin(bank)
    page = browser.get(f"{CONSOLE}?subject=bob", headers=ZH)
    assert page.status_code == 200 and NAV in page.text and '<a href="/transfer">Transfer</a>' in page.text
    assert '<div class="stepup wide" lang="zh-Hans">' in page.text
    assert "<h1>客服</h1>" in page.text and "用户 ID" in page.text and "登录方式" in page.text
    assert "重置所有方式（手机丢失）" in page.text and "短信" in page.text


def test_the_passkey_pages_keep_the_banks_navigation_and_speak_german(passkey_bank):
    browser = passkey_bank.browser()
    browser.sign_in("carol", "totp")
    form_page = browser.get("/stepup/passkeys/add", headers=DE)
    assert form_page.status_code == 200 and NAV in form_page.text
    assert "<h1>Passkey hinzufügen</h1>" in form_page.text and 'placeholder="z. B. Arbeitslaptop"' in form_page.text
    started = browser.submit(form_page, "", name="")
    creating = browser.get(started.location, headers=DE)
    assert NAV in creating.text and "Erstellen Sie Ihren Passkey" in creating.text
    # The script's own messages come from the page, in its language.
    assert 'data-msg-failed="Der Passkey wurde nicht verwendet.' in creating.text
    assert options_of(creating)["rp"]["id"] == "localhost"


def test_a_console_refusal_is_in_the_language_of_the_request(bank):
    browser = admin(bank)
    page = browser.get(f"{CONSOLE}?subject={'x' * 201}", headers=DE)
    assert page.status_code == 422
    assert "Eine Nutzer-ID hat höchstens 200 Zeichen." in page.text and NAV in page.text


def test_the_passkey_options_endpoint_answers_in_the_language_of_the_request(passkey_bank):
    fr = {"Accept-Language": "fr-FR", "Accept": "application/json"}
    stranger = passkey_bank.browser().get("/stepup/api/challenges/nope/passkey", headers=fr)
    assert stranger.status_code == 401 and stranger.json()["title"] == "Connectez-vous d'abord."
    browser = passkey_bank.browser()
    browser.sign_in("carol", "totp")
    forged = browser.get("/stepup/api/challenges/nope/passkey", headers=fr)
    assert forged.status_code == 404 and forged.json()["title"] == "Ce défi n'existe pas. Recommencez."


def test_the_banks_admin_finds_support_in_the_navigation_of_stepups_own_pages(bank):
    # The layout reads the bank's list of admins: a Flask context processor gives it, and
    # on ASGI the middleware's template_globals do.
    SUPPORT = '<a href="/admin/support">Support</a>'
    alice = admin(bank)
    account = alice.get("/stepup/account")
    assert account.status_code == 200 and NAV in account.text and SUPPORT in account.text
    give_bob_a_phone(bank)
    bob = bank.browser()
    bob.sign_in("bob", "sms")
    own = bob.get("/stepup/account")
    assert own.status_code == 200 and NAV in own.text and SUPPORT not in own.text
