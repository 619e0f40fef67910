"""The language machinery under attack, on both adapters: what a request says about its
language cannot break a page, inject markup, reach the store, or make stepup send codes."""

from __future__ import annotations

import pytest

import stepup
from tests.support.flows import held, signed_in

NAVIGATE = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}


def test_a_huge_or_garbled_accept_language_gets_the_default_page_and_stores_nothing(bank):
    browser = held(bank)
    url = browser.get("/").location
    before = len(bank.sms.outbox)
    for header in ("x-" * 5000, ";q=;q=,,,;;" * 500, "zh-CN;q=NaN, de;q=1e400", "en-\x7f" * 100):
        page = browser.get(url, headers={"Accept-Language": header})
        assert page.status_code == 200 and "<html lang=" in page.text
    assert len(bank.sms.outbox) == before and bank.call("locale_of", "alice") is None


def test_translated_texts_escape_what_the_user_typed(bank):
    browser = signed_in(bank)
    form_page = browser.get("/stepup/bind/email", headers={"Accept-Language": "fr"})
    answer = browser.post(
        "/stepup/bind/email",
        data={**browser.form(form_page).fields, "email": "<script>alert(1)</script>@x"},
        headers={"Accept-Language": "fr"},
    )
    assert answer.status_code == 422 and "Cette adresse e-mail n'est pas valide" in answer.text
    assert "<script>alert(1)</script>" not in answer.text


def test_a_page_reached_from_another_site_sends_no_code_even_with_one_method(bank):
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    browser = held(bank)
    url = browser.get("/").location
    sent = len(bank.sms.outbox)
    page = browser.get(url, headers={**NAVIGATE, "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and len(bank.sms.outbox) == sent  # the page, and its button
    assert browser.get(url, headers=NAVIGATE).status_code == 303 and len(bank.sms.outbox) == sent + 1


def test_an_operation_posted_from_another_site_sends_no_code_and_runs_nothing(bank):
    """The gate answers a request it stops with the code page, its code sent, only for a
    navigation from the same origin: a form on another site (or a sibling subdomain) that
    posts to a protected operation is sent to the choose page, and nothing is sent."""
    bank.call("unbind", "alice", next(b.id for b in bank.bindings("alice") if b.method == "email"))
    browser = signed_in(bank)
    fields = browser.form(browser.get("/transfer"), "/transfer").fields
    sent = len(bank.sms.outbox)
    for site in ("cross-site", "same-site"):
        data = {**fields, "to": "mallory", "amount": "900"}
        stopped = browser.post("/transfer", data=data, headers={**NAVIGATE, "Sec-Fetch-Site": site})
        assert stopped.status_code == 303 and stopped.location.startswith("/stepup/?"), site
    assert len(bank.sms.outbox) == sent
    assert "mallory" not in browser.get("/").text


def test_an_unknown_language_is_refused_with_what_there_is(engine_factory):
    engine = engine_factory()
    with pytest.raises(stepup.InvalidInput, match="Choose one of these languages: en, zh_Hans"):
        engine.set_locale("alice", "tlh")
    assert engine.locale_of("alice") is None
