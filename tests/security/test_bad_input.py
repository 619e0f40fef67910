"""Bad input: empty, a megabyte, non-ASCII text, full-width digits, NUL bytes, missing
fields, and in JSON wrong types and bodies that are not objects, on every form and every
JSON endpoint, one field at a time (the others valid, the CSRF token good, so the input
reaches the code that reads it). A clear 4xx every time: a page that says what is wrong,
a problem document; never a 5xx and never an exception out of the app. (Some cases of the
JSON API: test_json_api.py::test_bad_input_gets_a_clear_4xx.)"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support.banks import CONTACT_VERIFICATION
from tests.support.flows import PROBLEM, challenge, held, signed_in
from tests.support.pages import forms_of


@pytest.fixture
def bank(make_bank):
    """The bank with contact verification switched on (it is off by default): this
    module drives ``/stepup/api/verify`` too."""
    return make_bank(**CONTACT_VERIFICATION)


MEGABYTE = "7" * 1024 * 1024
#: as long as a URL may be (clients refuse a megabyte of URL before it leaves).
LONG = "7" * 8000
#: what a field may be sent as, instead of something sensible.
STRINGS = {
    "empty": "",
    "megabyte": MEGABYTE,
    "non-ascii": "é漢字🙂",
    "full-width digits": "１２３４５６",
    "nul": "12\x0034",
}
#: and, in JSON, wrong types.
TYPES = {"int": 5, "float": 1.5, "bool": True, "null": None, "list": ["123456"], "object": {"code": "123456"}}
MISSING = object()
#: whole bodies a JSON endpoint may be sent instead of an object.
BODIES = {
    "empty": (b"", "application/json"),
    "not json": (b"{not json", "application/json"),
    "array": (b'["sms"]', "application/json"),
    "string": (b'"sms"', "application/json"),
    "megabyte": (b'{"x": "' + MEGABYTE.encode() + b'"}', "application/json"),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "nul": (b'{"code": "\x00"}', "application/json"),
    "latin-1": ('{"code": "é"}'.encode("latin-1"), "application/json"),
}


def assert_clear_4xx(response, what):
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    if response.headers.get("Content-Type", "").startswith(PROBLEM):
        body = response.json()
        assert body["title"] and body["status"] == response.status_code, what
    else:
        assert response.text.strip(), what


# -- forms -------------------------------------------------------------------------------------


def _form_cases(bank):
    """(name, browser, url, the form's valid fields, the fields to make bad)."""
    stranger = bank.browser()
    holder = held(bank)
    choose = holder.follow(holder.get("/"))
    code_url = holder.choose(choose, "sms").location
    bob = held(bank, "bob")
    admin = signed_in(bank)
    remove = f"/stepup/account/remove/{bank.bindings('alice')[1].id}"
    return [
        ("login", stranger, "/login", stranger.form(stranger.get("/login"), "/login").fields, ["username", "password"]),
        ("choose", holder, "/stepup/", {**holder.form(choose, "/stepup/").fields, "binding": "x"}, ["binding"]),
        ("code", holder, code_url, holder.form(holder.get(code_url), "/stepup/code/").fields, ["code"]),
        ("bind phone", bob, "/stepup/bind/phone", bob.form(bob.get("/stepup/bind/phone"), "").fields, ["phone"]),
        ("bind email", bob, "/stepup/bind/email", bob.form(bob.get("/stepup/bind/email"), "").fields, ["email"]),
        ("admin", admin, "/stepup/admin", _admin_fields(admin), ["scope", "setting", "enabled"]),
        ("unbind", admin, remove, admin.form(admin.get("/stepup/account"), "/remove/").fields, ["csrf_token"]),
        ("resend", holder, code_url + "/resend", holder.form(holder.get(code_url), "/resend").fields, ["csrf_token"]),
        ("logout", admin, "/logout", admin.form(admin.get("/logout"), "/logout").fields, ["csrf_token"]),
    ]  # fmt: skip


def _admin_fields(admin):
    page = admin.get("/stepup/admin")
    return next(f.fields for f in forms_of(page.text) if "setting" in f.fields)


def test_every_form_answers_bad_fields_with_a_clear_4xx(bank):
    for name, browser, url, fields, bad_fields in _form_cases(bank):
        for field in bad_fields:
            for kind, value in [*STRINGS.items(), ("missing", MISSING)]:
                data = {k: v for k, v in fields.items() if k != field}
                if value is not MISSING:
                    data[field] = value
                response = browser.post(url, data=data)
                assert_clear_4xx(response, (name, field, kind))
    assert bank.bindings("bob") == [] and len(bank.bindings("alice")) == 2
    assert "sms" in bank.policy().methods()


def test_bad_input_to_a_protected_form_never_runs_it(bank):
    """The bank's transfer is stopped for its approval before its own form is read; bad
    input either stops there (too large) or waits for an approval it would then fail."""
    browser = signed_in(bank)
    fields = browser.form(browser.get("/transfer"), "/transfer").fields
    for field in ("to", "amount"):
        for kind, value in STRINGS.items():
            response = browser.post("/transfer", data={**fields, field: value})
            assert response.status_code in (303, 400, 413, 422), (field, kind, response.status_code)
    assert "No transfers yet." in browser.get("/transfers").text


# -- JSON ------------------------------------------------------------------------------------------


def _json_cases(bank):
    """(name, browser, method, url, a valid body, the fields to make bad, required ones)."""
    holder = held(bank)
    created = challenge(holder)
    signed = signed_in(bank, "alice", "email")
    contact = bank.browser().post("/stepup/api/verify", json={"channel": "sms", "to": "+447700900888"}).json()
    phone, other = {"method": "sms", "target": "+447700900555"}, {"channel": "sms", "to": "+447700900889"}
    return [
        ("create", holder, "POST", "/stepup/api/challenges", {"method": "sms"}, ["method", "binding_id", "resume"],
         ["method"]),
        ("verify", holder, "POST", created["verify_url"], {"code": "000000"}, ["code"], ["code"]),
        ("bind", signed, "POST", "/stepup/api/bindings", phone, ["method", "target"], ["method", "target"]),
        ("contact", bank.browser(), "POST", "/stepup/api/verify", other, ["channel", "to"], ["channel", "to"]),
        ("check", bank.browser(), "POST", contact["check_url"], {"code": "000000"}, ["code"], ["code"]),
    ]  # fmt: skip


def test_every_json_endpoint_answers_bad_fields_with_a_problem(bank):
    for name, browser, verb, url, valid, bad_fields, required in _json_cases(bank):
        for field in bad_fields:
            for kind, value in [*STRINGS.items(), *TYPES.items(), ("missing", MISSING)]:
                if (value is MISSING or value is None) and field not in required:
                    continue  # an optional field may be left out (or be null)
                body = {k: v for k, v in valid.items() if k != field}
                if value is not MISSING:
                    body[field] = value
                assert_clear_4xx(browser.open(url, verb, json=body), (name, field, kind))
    assert bank.browser().get("/stepup/api/status").status_code == 401


def test_every_json_endpoint_answers_bodies_that_are_not_objects_with_a_problem(bank):
    holder = held(bank)
    created = challenge(holder)
    urls = [
        "/stepup/api/challenges",
        created["verify_url"],
        created["verify_url"].replace("/verify", "/resend"),
        "/stepup/api/bindings",
        "/stepup/api/verify",
        "/stepup/api/verify/" + "r" * 24 + "/check",
    ]
    for url in urls:
        for kind, (body, content_type) in BODIES.items():
            if kind == "empty" and url.endswith("/resend"):
                continue  # a resend needs no body at all
            response = holder.post(url, content=body, content_type=content_type)
            assert_clear_4xx(response, (url, kind))
            assert response.headers["Content-Type"] == PROBLEM, (url, kind)


@pytest.mark.parametrize("path", ["/transfer", "/", "/api/balance", "/stepup/", "/login"])
def test_a_deeply_nested_json_body_anywhere_is_no_server_error(bank, path):
    """Every request stepup reads on its way (the login hold, a protected route) parses
    the body once: nesting too deep for the parser is bad input, not a crash."""
    for browser in (bank.browser(), held(bank), signed_in(bank)):
        response = browser.post(path, content=b"[" * 100_000, content_type="application/json")
        assert response.status_code < 500, (path, response.status_code)


URL_STRINGS = {**STRINGS, "megabyte": LONG}


@pytest.mark.parametrize("value", [*URL_STRINGS.values(), "1e999", "-"], ids=[*URL_STRINGS, "huge", "minus"])
def test_the_status_endpoint_answers_a_bad_max_age_with_a_problem(bank, value):
    browser = held(bank)

    response = browser.get("/stepup/api/status", params={"max_age": value})

    assert_clear_4xx(response, value)


PATH_STRINGS = {k: v for k, v in URL_STRINGS.items() if k != "empty"}  # empty: another route


@pytest.mark.parametrize(
    "value", [*PATH_STRINGS.values(), "%00", "..%2F..%2Ftransfers"], ids=[*PATH_STRINGS, "nul-encoded", "dots"]
)
def test_bad_path_parameters_are_a_clear_4xx(bank, value):
    browser = signed_in(bank)
    token = quote(value, safe="%")
    answers = [
        browser.get(f"/stepup/code/{token}"),
        browser.post(f"/stepup/api/challenges/{token}/verify", json={"code": "123456"}),
        browser.post(f"/stepup/api/verify/{token}/check", json={"code": "123456"}),
        browser.open(f"/stepup/api/bindings/{token}", "DELETE"),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500 or response.status_code == 405, (value, response.status_code)
    assert len(bank.bindings("alice")) == 2
