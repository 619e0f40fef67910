"""Operation approvals: only a challenge started for an operation approves it, and only that
operation (its text, route, method, path and fields, read as the app reads them); a request
whose fields cannot be read or put in a message is refused before anything is started or
charged; and an approval used by an operation that never finished says so when it comes
again. On both adapters, and FastAPI where its body parsing differs."""

from __future__ import annotations

import email.message
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends
from pydantic import BaseModel
from python_multipart.multipart import parse_options_header
from werkzeug.wrappers import Request as WerkzeugRequest

import stepup
from examples import fastapi_app
from stepup.asgi import require
from stepup.web import FORM_TYPES, is_json_type, media_type
from tests.support.banks import SECRET_KEY
from tests.support.flows import PROBLEM, api_url, ask_transfer, challenge, signed_in, token_of, transfers
from tests.support.sites import Outboxes, StarletteSite

PHONE = "+447400123456"


def stored(path: Path) -> list[Any]:
    """Every record of a site's SQLite store: challenges, resume records, limit counts."""
    with closing(sqlite3.connect(path)) as db:
        return sorted(db.execute("SELECT kind, key, value FROM stepup_records").fetchall())


def standing_orders(browser) -> list[str]:
    page = browser.get("/standing-order").text.split('id="standing-orders">')[1].split("</ul>")[0]
    return [item.split("</li>")[0] for item in page.split("<li>")[1:] if "No standing orders" not in item]


def transfer_fields(browser, path: str = "/transfer") -> dict[str, str]:
    return browser.form(browser.get(path), path).fields


def approved(approval: str) -> dict[str, str]:
    """The header that presents an approval."""
    return {"Stepup-Approval": approval}


def json_approval(site, browser, method: str, path: str, body: bytes, content_type: str = "application/json") -> str:
    """Ask for an operation as a JSON client would, and approve it through the JSON API."""
    asked = browser.open(path, method, content=body, content_type=content_type, headers={"Accept": "application/json"})
    assert asked.status_code == 401, (asked.status_code, asked.text)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    verified = browser.post(created["verify_url"], json={"code": site.code("sms")})
    assert verified.status_code == 200, verified.text
    return verified.json()["approval"]  # type: ignore[no-any-return]


# -- 1. a login or step-up code approves no operation -----------------------------------------


@pytest.mark.parametrize("purpose", ["login", "step_up"])
def test_the_engine_consumes_only_an_operation_challenge(engine_factory, sms, last_code, purpose):
    engine = engine_factory()
    engine.import_binding("alice", "sms", PHONE)
    started = engine.start("alice", "sms", purpose, session="nonce")
    engine.verify(started.id, last_code(sms), subject="alice", session="nonce")

    for offered in ({"to": "mallory", "amount": "4321.00"}, None):
        with pytest.raises(stepup.OperationMismatch):
            engine.consume(started.id, subject="alice", session="nonce", operation_data=offered)


def test_a_step_up_verified_through_the_api_runs_no_transfer(bank):
    """A step-up code, verified by the JSON API, sent as the approval header with the
    cookie from before the verify (what a browser sends while the verify is in flight)."""
    browser = signed_in(bank)
    before = bank.twin(browser)
    fields = transfer_fields(before)
    created = challenge(browser)
    verified = browser.post(created["verify_url"], json={"code": bank.code("sms")})
    assert verified.json()["purpose"] == "step_up"

    taken = before.post(
        "/transfer", data={**fields, "to": "mallory", "amount": "4321"}, headers={"Stepup-Approval": created["id"]}
    )

    assert taken.status_code == 403 and taken.json()["code"] == "operation_mismatch"
    assert transfers(browser) == []


def test_the_code_page_token_of_a_step_up_runs_no_transfer(bank):
    browser = signed_in(bank)
    bank.clock.advance(3601)  # the home page asks for a new second factor
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    before = bank.twin(browser)
    fields = transfer_fields(before)
    assert browser.enter(code_url, bank.code("sms")).location == "/"

    taken = before.post(
        "/transfer", data={**fields, "to": "mallory", "amount": "4321"}, headers={"Stepup-Approval": token_of(code_url)}
    )

    assert taken.status_code == 403 and taken.json()["code"] == "operation_mismatch"
    assert transfers(browser) == []


# -- 2. the fields approved are the fields the app reads ----------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["Application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED ; charset=UTF-8"],
)
def test_a_form_is_read_whatever_the_case_of_its_content_type(bank, content_type):
    browser = signed_in(bank)
    csrf = transfer_fields(browser)["csrf_token"]

    asked = browser.post("/transfer", content=f"csrf_token={csrf}&to=mallory&amount=999", content_type=content_type)
    code_url = browser.choose(browser.follow(asked), "sms").location

    assert "approves transfer of 999 to mallory" in bank.sms.last.body
    assert "Transferred 999.00 to mallory" in browser.enter(code_url, bank.code("sms")).text
    assert transfers(browser) == ["999.00 to mallory"]


JSON_TYPES = ["Application/JSON", "application/merge-patch+json", "application/json; charset=utf-8"]


@pytest.mark.parametrize("content_type", JSON_TYPES)
def test_a_json_body_is_read_whatever_its_json_media_type(lab, lab_records, content_type):
    browser = signed_in(lab, "dana")
    body = json.dumps({"name": "lamp", "colour": "red"}).encode()

    approval = json_approval(lab, browser, "PUT", "/items/7", body, content_type)
    other = browser.open(
        "/items/7", "PUT", content=json.dumps({"name": "safe", "colour": "red"}), content_type=content_type,
        headers=approved(approval),
    )  # fmt: skip
    done = browser.open("/items/7", "PUT", content=body, content_type=content_type, headers=approved(approval))

    assert "approves update of lamp." in lab.sms.last.body
    assert other.status_code == 403 and other.json()["code"] == "operation_mismatch"
    assert done.status_code == 200 and lab_records.items == {"7": {"name": "lamp", "colour": "red"}}


CONTENT_TYPES = [
    "application/json", "Application/JSON", "APPLICATION/JSON; charset=UTF-8", " application/json ; charset=utf-8",
    "application/merge-patch+json", "application/vnd.api+json; ext=x", "application/json-seq", "text/json",
    "application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded;charset=latin-1",
    "multipart/form-data; boundary=x", "MULTIPART/FORM-DATA; boundary=x", "application/x-url-encoded",
    "text/plain", "application/json, text/plain", "application", "",
]  # fmt: skip


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_stepup_tells_forms_and_json_apart_as_the_frameworks_do(content_type):
    """What stepup reads as a form or as JSON is what Werkzeug, Starlette (python-multipart)
    and FastAPI read as one, header by header."""
    werkzeug = WerkzeugRequest.from_values(content_type=content_type or None)
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    fastapi_json = bool(content_type) and message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )  # fmt: skip
    starlette_form = parse_options_header(content_type)[0].decode() in FORM_TYPES

    media = media_type(content_type)
    assert is_json_type(media) == werkzeug.is_json == fastapi_json
    assert (media in FORM_TYPES) == (werkzeug.mimetype in FORM_TYPES) == starlette_form


BODIES = {
    "text/plain": (b'{"name": "lamp"}', "text/plain", 415),
    "no content type": (b'{"name": "lamp"}', None, 415),
    "xml": (b"<name>lamp</name>", "application/xml", 415),
    "not json": (b'{"name": ', "application/json", 400),
    "json array": (b'["lamp"]', "application/json", 400),
    "json null": (b"null", "application/json", 400),
    "field missing": (b'{"colour": "red"}', "application/json", 400),
    "field blank": (b'{"name": "  "}', "application/json", 400),
    "field null": (b'{"name": null}', "application/json", 400),
}


@pytest.mark.parametrize("kind", BODIES)
def test_an_operation_whose_fields_cannot_be_read_is_refused_and_nothing_is_kept(lab, lab_records, tmp_path, kind):
    body, content_type, status = BODIES[kind]
    browser = signed_in(lab, "dana")
    sent, before = len(lab.sms.outbox), stored(tmp_path / "lab.sqlite3")

    refused = browser.open(
        "/items/7", "PUT", content=body, content_type=content_type, headers={"Accept": "application/json"}
    )

    assert refused.status_code == status and refused.headers["Content-Type"] == PROBLEM, refused.text
    assert refused.json()["title"].startswith(("Send this request as a form or as JSON", "The body must", "The field"))
    assert len(lab.sms.outbox) == sent and stored(tmp_path / "lab.sqlite3") == before
    assert lab_records.items == {}


def test_a_form_with_an_empty_payee_is_refused_with_a_page(bank, tmp_path):
    browser = signed_in(bank)
    sent, before = len(bank.sms.outbox), stored(tmp_path / "stepup.sqlite3")

    refused = ask_transfer(browser, "", "50")

    assert refused.status_code == 400 and "The field 'to' is empty" in refused.text
    assert len(bank.sms.outbox) == sent and stored(tmp_path / "stepup.sqlite3") == before


def test_an_unreadable_request_does_not_use_up_an_approval(lab, lab_records):
    browser = signed_in(lab, "dana")
    body = b'{"name": "lamp"}'
    approval = json_approval(lab, browser, "PUT", "/items/7", body)

    refused = browser.open(
        "/items/7", "PUT", content=b'{"name": "safe"}', content_type="text/plain", headers=approved(approval)
    )

    assert refused.status_code == 415 and lab_records.items == {}
    done = browser.open("/items/7", "PUT", content=body, content_type="application/json", headers=approved(approval))
    assert done.status_code == 200 and lab_records.items == {"7": {"name": "lamp"}}


class Payment(BaseModel):
    to: str
    amount: str


@pytest.fixture
def fastapi_site(tmp_path: Path, outboxes: Outboxes) -> Iterator[StarletteSite]:
    """The FastAPI example with a transfer endpoint whose body FastAPI reads itself, and
    alice past her second factor."""
    config = {"STEPUP_SECRET_KEY": SECRET_KEY, "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/api.sqlite3"}
    app = fastapi_app.create_app(config, **outboxes.async_engine_options())
    done: list[Payment] = []

    @app.post("/api/transfer", dependencies=[Depends(require(operation="transfer of {amount} to {to}"))])
    async def transfer(payment: Payment) -> dict[str, str]:
        done.append(payment)
        return {"transferred": payment.amount, "to": payment.to}

    site = StarletteSite(app, outboxes)
    site.records = done
    client = site.test_client
    assert client.post("/login", json={"username": "alice", "password": "alice-password"}).status_code == 200
    created = client.post("/stepup/api/challenges", json={"method": "sms"}).json()
    assert client.post(created["verify_url"], json={"code": site.code("sms")}).status_code == 200
    yield site
    site.close()


@pytest.mark.parametrize("content_type", ["Application/JSON", "application/merge-patch+json"])
def test_fastapi_runs_the_transfer_its_approval_names(fastapi_site, content_type):
    client, done = fastapi_site.test_client, fastapi_site.records
    body = json.dumps({"to": "mallory", "amount": "999"})
    headers = {"Content-Type": content_type}

    asked = client.post("/api/transfer", content=body, headers=headers)
    created = client.post("/stepup/api/challenges", json={"method": "sms", "resume": asked.json()["resume"]}).json()
    approval = client.post(created["verify_url"], json={"code": fastapi_site.code("sms")}).json()["approval"]
    other = client.post("/api/transfer", content=body.replace("999", "5000"), headers={**headers, **approved(approval)})
    ran = client.post("/api/transfer", content=body, headers={**headers, **approved(approval)})

    assert "approves transfer of 999 to mallory" in fastapi_site.sms.last.body
    assert other.status_code == 403 and other.json()["code"] == "operation_mismatch"
    assert ran.status_code == 200 and ran.json() == {"transferred": "999", "to": "mallory"}
    assert done == [Payment(to="mallory", amount="999")]


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_fastapi_refuses_a_body_it_would_not_read_as_json(fastapi_site, tmp_path, content_type):
    client = fastapi_site.test_client
    sent, before = len(fastapi_site.sms.outbox), stored(tmp_path / "api.sqlite3")
    headers = {"Content-Type": content_type} if content_type else {}

    refused = client.post("/api/transfer", content=b'{"to": "mallory", "amount": "999"}', headers=headers)

    assert refused.status_code == 415 and refused.json()["code"] == "unsupported_media_type"
    assert len(fastapi_site.sms.outbox) == sent and stored(tmp_path / "api.sqlite3") == before


# -- 7. an approval passes its own route, method and path only --------------------------------


def test_an_approved_transfer_does_not_set_up_a_standing_order(bank):
    """The same fields on another route: the message read "transfer of 100.00 to bob"."""
    browser = signed_in(bank)
    fields = {**transfer_fields(browser, "/standing-order"), "to": "bob", "amount": "100.00"}
    asked = browser.post("/transfer", data=fields, headers={"Accept": "application/json"})
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    approval = browser.post(created["verify_url"], json={"code": bank.code("sms")}).json()["approval"]
    assert "approves transfer of 100.00 to bob" in bank.sms.last.body

    taken = browser.post("/standing-order", data=fields, headers=approved(approval))

    assert taken.status_code == 403 and taken.json()["code"] == "operation_mismatch"
    assert standing_orders(browser) == []
    assert "Transferred 100.00 to bob" in browser.post("/transfer", data=fields, headers=approved(approval)).text


def test_the_code_page_token_of_a_transfer_does_not_set_up_a_standing_order(bank):
    browser = signed_in(bank)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "100.00")), "sms").location
    assert browser.post(api_url(code_url), json={"code": bank.code("sms")}).json()["purpose"] == "operation"
    fields = {**transfer_fields(browser, "/standing-order"), "to": "bob", "amount": "100.00"}

    taken = browser.post("/standing-order", data=fields, headers={"Stepup-Approval": token_of(code_url)})

    assert taken.status_code == 403 and taken.json()["code"] == "operation_mismatch"
    assert standing_orders(browser) == [] and transfers(browser) == []


def test_a_standing_order_is_approved_in_its_own_words_and_replayed_once(bank):
    browser = signed_in(bank)
    fields = {**transfer_fields(browser, "/standing-order"), "to": "bob", "amount": "100.00"}

    asked = browser.post("/standing-order", data=fields)
    done = browser.pass_challenge(browser.follow(asked), "sms")

    assert "approves monthly standing order of 100.00 to bob" in bank.sms.last.body
    assert "Standing order set up: 100.00 to bob every month" in done.text
    assert standing_orders(browser) == ["100.00 to bob every month"] and transfers(browser) == []


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/items/7"), ("PUT", "/items/8")], ids=["method", "path"])
def test_an_approval_passes_only_its_own_method_and_path(lab, lab_records, method, path):
    browser = signed_in(lab, "dana")
    body = b'{"name": "lamp"}'
    approval = json_approval(lab, browser, "PUT", "/items/7", body)

    taken = browser.open(path, method, content=body, content_type="application/json", headers=approved(approval))

    assert taken.status_code == 403 and taken.json()["code"] == "operation_mismatch"
    assert lab_records.items == {}


# -- 12. fields no message can carry --------------------------------------------------------------

UNFIT = {
    "CR LF": "bob\r\nBcc: everyone@example.com",
    "LF": "bob\nmallory",
    "NUL": "bob\x00",
    "tab": "bob\tmallory",
    "line separator": "bob\u2028mallory",
    "bidi override": "\u202ebob",
    # invisible: two payees a message shows alike would be two values to the app
    "zero-width space": "bo\u200bb",
    "right-to-left mark": "\u200fbob\u200e",
    "arabic letter mark": "bob\u061c",
    "soft hyphen": "b\u00adob",
    "byte-order mark": "bob\ufeff",
    # drawn as nothing, or as a space, though not in the format category
    "combining grapheme joiner": "bo\u034fb",
    "variation selector": "bob\ufe0f",
    "hangul filler": "bob\u3164",
    "braille blank": "bob\u2800smith",
    "no-break space": "bob\u00a0smith",
}


@pytest.mark.parametrize("value", UNFIT.values(), ids=UNFIT.keys())
def test_a_field_no_message_can_carry_is_refused_before_anything_is_kept(bank, tmp_path, value):
    browser = signed_in(bank)
    sent, before = len(bank.sms.outbox), stored(tmp_path / "stepup.sqlite3")

    refused = ask_transfer(browser, value, "50")

    assert refused.status_code == 400 and "cannot be shown in a message" in refused.text
    assert len(bank.sms.outbox) == sent and stored(tmp_path / "stepup.sqlite3") == before
    assert transfers(browser) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [("bob ", "spaces"), (" bob", "spaces"), ("bob  smith", "spaces"), ("bob" + " " * 197 + "mallory", "spaces"),
     ("b" * 201, "length")],
    ids=["trailing", "leading", "in a row", "padded to the cut", "longer than shown"],
)
def test_a_payee_that_would_read_as_another_in_the_message_is_refused(bank, tmp_path, value, reason):
    # "bob " reads as "bob", and a value past what the message shows would be cut there.
    browser = signed_in(bank)
    sent, before = len(bank.sms.outbox), stored(tmp_path / "stepup.sqlite3")

    refused = browser.post("/transfer", json={"to": value, "amount": "5.00"}, headers={"Accept": "application/json"})

    assert refused.status_code == 400 and refused.json()["reason"] == reason, refused.text
    assert len(bank.sms.outbox) == sent and stored(tmp_path / "stepup.sqlite3") == before


def test_digits_other_than_ascii_are_refused_as_the_app_would_read_them_otherwise(bank, tmp_path):
    # float("10\u066000") is 10000.0: the message would show "10٠00", the bank would run 10000.00.
    browser = signed_in(bank)
    sent, before = len(bank.sms.outbox), stored(tmp_path / "stepup.sqlite3")

    refused = ask_transfer(browser, "bob", "10\u066000")

    assert refused.status_code == 400 and "digits other than 0-9" in refused.text
    assert len(bank.sms.outbox) == sent and stored(tmp_path / "stepup.sqlite3") == before
    assert transfers(browser) == []


def test_a_lone_surrogate_in_json_is_refused_with_a_problem(bank, tmp_path):
    browser = signed_in(bank)
    sent, before = len(bank.sms.outbox), stored(tmp_path / "stepup.sqlite3")

    refused = browser.post(
        "/transfer", content=b'{"to": "\\ud800", "amount": "50"}', content_type="application/json",
        headers={"Accept": "application/json"},
    )  # fmt: skip

    assert refused.status_code == 400 and refused.headers["Content-Type"] == PROBLEM
    assert refused.json()["reason"] == "characters" and "'to'" in refused.json()["title"]
    assert len(bank.sms.outbox) == sent and stored(tmp_path / "stepup.sqlite3") == before


# -- 18. an approval used by an operation that never finished ----------------------------------


class Died(Exception):
    """The process died between using the approval and finishing the operation."""


def _dies_once(monkeypatch, target: Any, name: str) -> None:
    real = getattr(target, name)

    def dying(*args: Any) -> None:
        monkeypatch.setattr(target, name, real)
        raise Died

    monkeypatch.setattr(target, name, dying)


def test_submitting_a_used_approval_again_says_to_check_the_transfer(bank, monkeypatch):
    browser = signed_in(bank)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "50")), "sms").location
    form = {**browser.form(browser.get(code_url), "/stepup/code/").fields, "code": bank.code("sms")}
    ledger = bank.app.extensions["demo_ledger"] if bank.adapter == "flask" else bank.app.state.ledger
    _dies_once(monkeypatch, ledger, "add")
    with pytest.raises(Died):
        browser.post(code_url, data=form)

    again = browser.post(code_url, data=form)

    assert again.status_code == 410 and "Already done" in again.text
    assert "Check whether the transfer of 50 to bob went through" in again.text
    assert "no longer works" not in again.text and transfers(browser) == []


def test_sending_a_used_approval_header_again_says_to_check_the_payment(lab, lab_records, monkeypatch):
    browser = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "50.00"}
    approval = json_approval(lab, browser, "POST", "/pay", json.dumps(payment).encode())
    monkeypatch.setattr(lab_records, "payments", _DyingList())
    with pytest.raises(Died):
        browser.post("/pay", json=payment, headers=approved(approval))

    again = browser.post("/pay", json=payment, headers=approved(approval))

    assert again.status_code == 410 and again.json()["code"] == "challenge_closed"
    assert again.json()["title"].startswith("This approval was already used. Check whether the payment of 50.00 to bob")


class _DyingList(list):
    def append(self, item: Any) -> None:
        raise Died
