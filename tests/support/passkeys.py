"""Passkeys on the test sites' pages: the settings that make a test client's host a relying
party, and the steps a browser takes with a software authenticator."""

from __future__ import annotations

import html
import json
import re

ORIGIN = "http://localhost"
PASSKEYS = {"STEPUP_WEBAUTHN_RP_ID": "localhost", "STEPUP_WEBAUTHN_ORIGINS": "http://localhost,http://testserver"}


def options_of(page):
    """The WebAuthn options a passkey page hands its script."""
    found = re.search(r'data-options="([^"]*)"', page.text)
    assert found, page.text[:3000]
    return json.loads(html.unescape(found.group(1)))


def add_passkey(site, browser, device, name=""):
    """Add a passkey on the account page, as carol's browser would; answers the result."""
    form_page = browser.get("/stepup/passkeys/add")
    assert form_page.status_code == 200, form_page.text[:2000]
    started = browser.submit(form_page, "", name=name)
    assert started.status_code == 303, started.text[:2000]
    creating = browser.follow(started)
    assert "Create your passkey" in creating.text and "/stepup/static/passkeys.js" in creating.text
    return browser.submit(creating, "/stepup/code/", credential=device.create(options_of(creating)))


def use_passkey(browser, code_page, device, **kwargs):
    return browser.submit(code_page, "/stepup/code/", credential=device.get(options_of(code_page), **kwargs))
