"""Fuzzing every form and JSON endpoint of both adapters with hypothesis: random fields,
values, types, bodies, path parameters and sessions (none, held after the password,
signed in), with a good CSRF token half of the time so the input gets past it.

Whatever comes in: no 5xx and no exception out of the app (the test clients raise them),
problem documents from the JSON API, and the state stays consistent from one example to
the next: the held session is still held (or signed out), its open challenge's attempts
never go up, and no transfer ever runs (the fuzzer never has a code, so nothing can be
approved). Examples are few and fixed (the ``stepup`` profile in tests/conftest.py).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepup.web import ROUTES
from tests.support.flows import PROBLEM, challenge, held, signed_in, transfers

EXAMPLES = 150

FIELDS = [
    "code", "binding", "next", "r", "phone", "email", "remember", "scope", "name", "setting", "enabled",
    "username", "password", "to", "amount", "method", "target", "channel", "resume", "binding_id",
]  # fmt: skip
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["", "１２３４５６", "12\x0034", "+447700900001", "+44 909 879 0000", "alice@example.com",
                     "//evil.example", "sms", "totp", "on", "global", "method:sms", "login_2fa", "x" * 5000]),
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

#: who sends the request; mostly someone signed in, so it gets past "sign in first".
SESSIONS = st.sampled_from(["held", "held", "signed", "signed", "anonymous"])

#: stepup's form routes and the bank's: (verb, path with {parameters}).
FORM_ROUTES = [
    ("POST", "/stepup" + path) for name, path, verbs in ROUTES if "POST" in verbs and not name.startswith("api_")
]
FORM_ROUTES += [("POST", "/login"), ("POST", "/logout"), ("POST", "/transfer")]
JSON_ROUTES = [(verb, "/stepup" + path) for name, path, verbs in ROUTES if name.startswith("api_") for verb in verbs]


class Fuzzed:
    """The bank under fuzzing, its three sessions, and what must stay true."""

    def __init__(self, bank: Any) -> None:
        self.bank = bank
        self.sessions = {"anonymous": bank.browser(), "held": held(bank), "signed": signed_in(bank)}
        holder = self.sessions["held"]
        self.challenge = challenge(holder)
        self.code_url = f"/stepup/code/{self.challenge['id']}"
        self.csrf = {
            name: browser.form(browser.get("/login"), "/login").fields["csrf_token"]
            for name, browser in self.sessions.items()
        }
        self.params = {
            "token": [self.challenge["id"]],
            "binding_id": [b.id for b in bank.bindings("alice")],
            "request_id": [],
        }
        self.attempts = [3]

    def path(self, template: str, data: st.DataObject) -> str:
        def fill(match: re.Match[str]) -> str:
            known = self.params.get(match.group(1), [])
            value = data.draw(st.sampled_from(known) | TEXT if known else TEXT, label=match.group(1))
            return quote(value, safe="")

        return re.sub(r"\{(\w+)\}", fill, template)

    def check(self, response: Any, json_route: bool) -> None:
        assert response.status_code < 500, (response.status_code, response.text[:500])
        if json_route and 400 <= response.status_code < 500 and response.status_code not in (404, 405):
            assert response.headers["Content-Type"].startswith(PROBLEM), response.text[:300]
        holder = self.sessions["held"]
        status = holder.get("/stepup/api/status")
        assert status.status_code == 401 or status.json()["held"] is True
        if status.status_code == 200:
            page = holder.get(self.code_url).text
            found = re.search(r"(\d+) attempts? left", page)
            left = int(found.group(1)) if found and "Enter your code" in page else 0
            assert left <= self.attempts[-1], (left, self.attempts)
            self.attempts.append(left)
        assert self.ledger() == []

    def ledger(self) -> list[tuple[str, str]]:
        app = self.bank.app
        ledger = app.extensions["demo_ledger"] if self.bank.adapter == "flask" else app.state.ledger
        return ledger.of("alice")  # type: ignore[no-any-return]


@pytest.fixture
def fuzzed(bank):
    """The bank and its sessions, made once for all the examples of a test."""
    return Fuzzed(bank)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_fuzzing_the_forms(fuzzed, data):
    verb, template = data.draw(st.sampled_from(FORM_ROUTES), label="route")
    who = data.draw(SESSIONS, label="session")
    fields = data.draw(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), TEXT, max_size=5), label="fields")
    if data.draw(st.booleans(), label="good csrf"):
        fields["csrf_token"] = fuzzed.csrf[who]
    accept = data.draw(st.sampled_from([None, "application/json", "text/html"]), label="accept")

    response = fuzzed.sessions[who].open(
        fuzzed.path(template, data), verb, data=fields, headers={"Accept": accept} if accept else None
    )

    fuzzed.check(response, json_route=False)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_fuzzing_the_json_api(fuzzed, data):
    verb, template = data.draw(st.sampled_from(JSON_ROUTES), label="route")
    who = data.draw(SESSIONS, label="session")
    kind = data.draw(st.sampled_from(["object", "object", "object", "any json", "raw", "form", "none"]), label="body")
    options: dict[str, Any] = {}
    if kind == "object":
        options["json"] = data.draw(
            st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSON_VALUES, max_size=4)
        )
    elif kind == "any json":
        options["json"] = data.draw(JSON_VALUES)
        if options["json"] is None:
            options = {"content": b"null", "content_type": "application/json"}
    elif kind == "raw":
        options["content"] = data.draw(st.binary(max_size=200))
        options["content_type"] = data.draw(
            st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-16"])
        )
    elif kind == "form":
        options["data"] = data.draw(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=3))
    query = data.draw(st.dictionaries(st.sampled_from(["max_age", "next", "r"]), TEXT, max_size=2), label="query")

    response = fuzzed.sessions[who].open(fuzzed.path(template, data), verb, params=query or None, **options)

    fuzzed.check(response, json_route=True)


def test_the_fuzzers_invariants_hold_for_a_real_flow(bank):
    """The checks above are not vacuous: a real code un-holds the session, moves the
    attempts and runs a transfer, and each of those shows."""
    fuzzed = Fuzzed(bank)
    holder = fuzzed.sessions["held"]
    holder.post(fuzzed.challenge["verify_url"], json={"code": "000000" if bank.code("sms") != "000000" else "111111"})
    assert "2 attempts left" in holder.get(fuzzed.code_url).text
    signed = fuzzed.sessions["signed"]
    signed.pass_challenge(
        signed.follow(signed.submit(signed.get("/transfer"), "/transfer", to="bob", amount="1")), "sms"
    )
    assert transfers(signed) == ["1.00 to bob"] and fuzzed.ledger() == [("bob", "1.00")]
