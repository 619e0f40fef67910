"""User enumeration: binding a phone or an email, verifying a contact, and asking for a new
code answer the same way whether or not the number or address is already someone's: the
same status, the same body once the random tokens and the masked digits are set aside,
the same headers. The content does not depend on it, so neither can its timing much."""

from __future__ import annotations

import re

import pytest

from tests.support.banks import CONTACT_VERIFICATION
from tests.support.flows import held, wrong_for


@pytest.fixture
def bank(make_bank):
    """The bank with contact verification switched on (it is off by default): this
    module drives ``/stepup/api/verify`` too."""
    return make_bank(**CONTACT_VERIFICATION)


#: alice's own targets, and ones nobody has.
TARGETS = {
    "sms": ("+447700900001", "+447700900777"),
    "email": ("alice@example.com", "nobody@example.org"),
}
#: random per request: tokens and ids.
VOLATILE = {"id", "verify_url", "request_id", "check_url", "cancel_url", "next_url"}


def shape(value):
    """A JSON answer with its random parts dropped and its digits blanked (masked targets)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"\d", "#", re.sub(r"[a-z]•••@\S+", "x•••@domain", value))
    return value


def page_shape(html: str) -> str:
    """A page with its signed tokens, CSRF values and masked targets blanked."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", html)
    html = re.sub(r"/stepup/code/[^\"'?/]+", "/stepup/code/TOKEN", html)
    html = re.sub(r"[a-z]•••@[\w.]+", "x•••@domain", html)
    return re.sub(r"\d", "#", html)


def headers_of(response):
    return sorted(
        k.lower() for k in response.headers.keys() if k.lower() not in ("content-length", "set-cookie", "date")
    )


@pytest.mark.parametrize("method", sorted(TARGETS))
def test_binding_by_api_answers_the_same_for_a_taken_target(bank, method):
    answers = []
    for target in TARGETS[method]:
        browser = held(bank, "bob")
        created = browser.post("/stepup/api/bindings", json={"method": method, "target": target})
        bank.clock.advance(30)
        resent = browser.post(created.json()["verify_url"].replace("/verify", "/resend"))
        wrong = browser.post(created.json()["verify_url"], json={"code": wrong_for(bank.code(method))})
        answers.append([(a.status_code, shape(a.json()), headers_of(a)) for a in (created, resent, wrong)])

    taken, free = answers
    assert taken == free
    assert [status for status, _, _ in taken] == [201, 200, 400]


@pytest.mark.parametrize("method", sorted(TARGETS))
def test_binding_by_page_answers_the_same_for_a_taken_target(bank, method):
    page, field = {"sms": ("phone", "phone"), "email": ("email", "email")}[method]
    answers = []
    for target in TARGETS[method]:
        browser = held(bank, "bob")
        sent = browser.submit(browser.get(f"/stepup/bind/{page}"), "", **{field: target})
        code_page = browser.get(sent.location)
        bank.clock.advance(30)
        resent = browser.submit(code_page, "/resend")
        answers.append([
            (sent.status_code, page_shape(sent.location)),
            (code_page.status_code, page_shape(code_page.text)),
            (resent.status_code, page_shape(resent.location or "")),
            (browser.get(resent.location).status_code, page_shape(browser.get(resent.location).text)),
        ])  # fmt: skip

    taken, free = answers
    assert taken == free
    assert [status for status, _ in taken] == [303, 200, 303, 200]


@pytest.mark.parametrize("method", sorted(TARGETS))
def test_contact_verification_answers_the_same_for_a_taken_target(bank, method):
    answers = []
    for target in TARGETS[method]:
        client = bank.browser()
        requested = client.post("/stepup/api/verify", json={"channel": method, "to": target})
        wrong = client.post(requested.json()["check_url"], json={"code": wrong_for(bank.code(method))})
        answers.append([(a.status_code, shape(a.json()), headers_of(a)) for a in (requested, wrong)])

    taken, free = answers
    assert taken == free
    assert [status for status, _, _ in taken] == [201, 400]
