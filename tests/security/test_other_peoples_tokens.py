"""Another user's, or another session's, challenge, resume token or operation approval: 403,
and nothing is charged (the owner still has every attempt and every send). And an approval
of one operation used for another: refused. (test_sessions.py shows one session's links
doing nothing in another; test_operations.py an approval for another amount.)"""

from __future__ import annotations

import pytest

from tests.support.flows import ask_transfer, challenge, held, payload_of, signed_in, token_of, transfers, wrong_for


@pytest.fixture(params=["another user", "another session"])
def thief(request, bank):
    """Who tries alice's things: carol (signed in), or a second login of alice's own."""
    return signed_in(bank, "carol", "totp") if request.param == "another user" else held(bank)


def test_anothers_challenge_cannot_be_verified_resent_or_cancelled(bank, thief):
    owner = held(bank)
    created = challenge(owner)
    code = bank.code("sms")
    bank.clock.advance(30)

    answers = [
        thief.post(created["verify_url"], json={"code": code}),
        thief.post(created["verify_url"], json={"code": wrong_for(code)}),
        thief.post(created["verify_url"].replace("/verify", "/resend")),
        thief.open(created["verify_url"].removesuffix("/verify"), "DELETE"),
        thief.get(f"/stepup/code/{created['id']}"),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert all(a.json()["code"] == "challenge_forbidden" for a in answers[:4])
    assert len(bank.sms.outbox) == 1  # no resend went out
    # Nothing was charged: all three attempts and both resends are the owner's still.
    assert "3 attempts left" in owner.get(f"/stepup/code/{created['id']}").text
    resent = owner.post(created["verify_url"].replace("/verify", "/resend"))
    assert resent.status_code == 200 and resent.json()["sends_left"] == 1
    assert owner.post(created["verify_url"], json={"code": bank.code("sms")}).status_code == 200


def test_anothers_code_page_form_is_refused(bank, thief):
    owner = held(bank)
    code_url = owner.choose(owner.follow(owner.get("/")), "sms").location
    csrf = thief.form(thief.get("/logout"), "/logout").fields["csrf_token"]  # a valid token of its own

    stolen = thief.post(code_url, data={"code": bank.code("sms"), "csrf_token": csrf})

    assert stolen.status_code == 403
    assert owner.enter(code_url, bank.code("sms")).status_code == 303


def test_anothers_resume_token_is_refused(bank, thief):
    owner = signed_in(bank)
    asked = ask_transfer(owner, "mallory", "500")
    resume = asked.location.split("?r=")[1]
    sent = len(bank.sms.outbox)

    page = thief.get(f"/stepup/?r={resume}")
    api = thief.post("/stepup/api/challenges", json={"method": "sms", "resume": resume})

    assert page.status_code == 403 and "This request has ended" in page.text
    assert api.status_code == 403 and api.json()["code"] == "challenge_forbidden"
    assert len(bank.sms.outbox) == sent
    assert transfers(owner) == []
    # the owner can still use it
    approved = owner.pass_challenge(owner.get(asked.location), "sms")
    assert "Transferred 500.00 to mallory" in approved.text


@pytest.fixture(params=["another user", "another session"])
def lab_thief(request, lab):
    return signed_in(lab, "erin", "totp") if request.param == "another user" else signed_in(lab, "dana", "email")


def _approve(lab, browser, payment):
    asked = browser.post("/pay", json=payment)
    created = challenge(browser, method="sms", resume=asked.json()["resume"])
    verified = browser.post(created["verify_url"], json={"code": lab.code("sms")})
    return {"Stepup-Approval": verified.json()["approval"]}


def test_anothers_operation_approval_is_refused_and_still_works_for_its_owner(lab, lab_records, lab_thief):
    owner = signed_in(lab, "dana")
    payment = {"to": "bob", "amount": "50.00"}
    approval = _approve(lab, owner, payment)

    stolen = lab_thief.post("/pay", json=payment, headers=approval)

    assert stolen.status_code == 403 and stolen.json()["code"] == "challenge_forbidden"
    assert lab_records.payments == []
    assert owner.post("/pay", json=payment, headers=approval).status_code == 200
    assert lab_records.payments == [("bob", "50.00")]


@pytest.mark.parametrize(
    "changed",
    [
        {"to": "bob", "amount": "5000.00"},
        {"to": "mallory", "amount": "50.00"},
        {"to": "mallory", "amount": "5000.00"},
        {"to": "bob", "amount": 50.0},
    ],
    ids=["amount", "payee", "both", "type"],
)
def test_an_approval_for_one_operation_does_not_pass_another(lab, lab_records, changed):
    browser = signed_in(lab, "dana")
    approved = {"to": "bob", "amount": "50.00"}
    approval = _approve(lab, browser, approved)

    other = browser.post("/pay", json=changed, headers=approval)

    assert other.status_code == 403 and other.json()["code"] == "operation_mismatch"
    assert lab_records.payments == []
    assert browser.post("/pay", json=approved, headers=approval).status_code == 200


def test_a_payee_longer_than_the_message_shows_is_refused_not_cut(lab, lab_records):
    """A payee past the 200 characters a message shows would be approved by its start
    alone: it is refused, so two payees that differ only after it are never approved."""
    browser = signed_in(lab, "dana")
    sent = len(lab.sms.outbox)

    asked = browser.post("/pay", json={"to": "x" * 200 + "bob", "amount": "50.00"})

    assert asked.status_code == 400 and asked.json()["reason"] == "length"
    assert len(lab.sms.outbox) == sent and lab_records.payments == []


def test_a_payee_given_twice_is_refused_not_approved(bank):
    """``to=mallory&to=bob``: Flask reads the first value, Starlette's form the last, and
    the app's own form library may read either; stepup approves neither."""
    browser = signed_in(bank)
    csrf = browser.form(browser.get("/transfer"), "/transfer").fields["csrf_token"]

    asked = browser.post(
        "/transfer", content=f"csrf_token={csrf}&to=mallory&to=bob&amount=50",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip

    assert asked.status_code == 422 and "more than once" in asked.text
    assert len(bank.sms.outbox) == 1  # the sign-in code only
    assert transfers(browser) == []


def test_the_page_approval_of_a_transfer_cannot_be_used_again_as_a_header(bank):
    """The code page's approval ran the transfer (its replay); its token, sent again as the
    approval header with the same transfer, finds it used."""
    browser = signed_in(bank)
    code_url = browser.choose(browser.follow(ask_transfer(browser, "bob", "50")), "sms").location
    assert "Transferred 50.00 to bob" in browser.enter(code_url, bank.code("sms")).text
    fields = browser.form(browser.get("/transfer"), "/transfer").fields

    again = browser.post(
        "/transfer", data={**fields, "to": "bob", "amount": "50"}, headers={"Stepup-Approval": token_of(code_url)}
    )

    assert again.status_code == 410 and again.json()["code"] == "challenge_closed"
    assert transfers(browser) == ["50.00 to bob"]


def test_a_raw_challenge_id_is_no_token(bank):
    """The challenge id inside a page token is readable, but only the signed token names
    a challenge: the id alone is no code page, no API challenge and no approval."""
    browser = held(bank)
    created = challenge(browser)
    raw = payload_of(created["id"])["c"]

    page = browser.get(f"/stepup/code/{raw}")
    api = browser.post(f"/stepup/api/challenges/{raw}/verify", json={"code": bank.code("sms")})

    assert page.status_code == 404 and api.status_code == 404
    assert "3 attempts left" in browser.get(f"/stepup/code/{created['id']}").text
