"""One rule tells a page from JSON, on both adapters, wherever stepup stops a request: a
step-up that is due, a login held for its second factor, and nobody signed in.

``Accept`` decides when it names a page (``text/html``) or JSON (``application/json``)
and not the other; when it names both, the body sent does (JSON, or a form); when it names
neither (none at all, or ``*/*`` as curl and httpx send), JSON, unless a form was sent.
A page is a redirect to stepup's pages (or a "sign in" page); JSON a 401 problem document."""

from __future__ import annotations

import pytest

from tests.support.browser import PAGE_ACCEPT

PAYMENT = {"to": "bob", "amount": "5.00"}
#: Accept header -> what stepup answers for (no body, a form, a JSON body).
RULE = {
    None: ("json", "page", "json"),
    "*/*": ("json", "page", "json"),
    "text/html": ("page", "page", "page"),
    PAGE_ACCEPT: ("page", "page", "page"),  # a browser's own
    "application/json": ("json", "json", "json"),
    "text/html, application/json": ("page", "page", "json"),
}
BODIES = ["no body", "form", "json"]
CASES = [
    pytest.param(accept, body, RULE[accept][i], id=f"{'browser' if accept == PAGE_ACCEPT else accept}-{body}")
    for accept in RULE
    for i, body in enumerate(BODIES)
]


def answer_kind(page) -> str:
    """``page`` or ``json``, or what else the answer was."""
    content_type = page.headers.get("Content-Type", "")
    if page.status_code == 401 and content_type == "application/problem+json":
        return "json"
    if page.status_code == 303 and page.location.startswith("/stepup/"):
        return "page"
    if page.status_code == 401 and content_type.startswith("text/html") and "Sign in first" in page.text:
        return "page"
    return f"{page.status_code} {content_type} {page.location}"


def send(browser, accept: str | None, body: str):
    """A GET of a protected page, or a POST of a protected payment with a form or JSON,
    with exactly the ``Accept`` given (none at all for ``None``)."""
    headers = {} if accept is None else {"Accept": accept}
    sent = {"data": PAYMENT} if body == "form" else {"json": PAYMENT} if body == "json" else {}
    path, method = ("/report", "GET") if body == "no body" else ("/pay", "POST")
    return browser.client.request(
        method, path, data=sent.get("data"), json=sent.get("json"), content=None, params=None, headers=headers
    )


@pytest.mark.parametrize(("accept", "body", "expected"), CASES)
def test_one_rule_tells_a_page_from_json_wherever_stepup_stops_a_request(lab, lab_records, accept, body, expected):
    stale = lab.browser()
    stale.sign_in("dana", "sms")
    lab.clock.advance(61)
    held = lab.browser()
    held.login("dana")
    nobody = lab.browser()

    answers = {
        "a step-up due": answer_kind(send(stale, accept, body)),
        "a login held": answer_kind(send(held, accept, body)),
        "nobody signed in": answer_kind(send(nobody, accept, body)),
    }

    assert answers == dict.fromkeys(answers, expected)
    assert lab_records.payments == []
