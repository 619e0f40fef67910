"""The FastAPI example: a JSON API protected by ``Depends(require(max_age=300))``, stepped
up through stepup's JSON API by a client that sends nothing but JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples import fastapi_app
from tests.support.banks import SECRET_KEY
from tests.support.sites import StarletteSite

PROBLEM = "application/problem+json"


@pytest.fixture
def api(serve, tmp_path: Path, outboxes) -> StarletteSite:
    """The API, and alice signed in with her password (her second factor still to come)."""
    config = {"STEPUP_SECRET_KEY": SECRET_KEY, "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/api.sqlite3"}
    app = fastapi_app.create_app(config, **outboxes.async_engine_options())
    site = serve(app)
    signed_in = site.test_client.post("/login", json={"username": "alice", "password": "alice-password"})
    assert signed_in.status_code == 200 and signed_in.json() == {"user": "alice"}
    return site


def verify_by_sms(api, resume=None):
    client = api.test_client
    body = {"method": "sms"} if resume is None else {"method": "sms", "resume": resume}
    created = client.post("/stepup/api/challenges", json=body)
    assert created.status_code == 201, created.text
    verified = client.post(created.json()["verify_url"], json={"code": api.code("sms")})
    assert verified.status_code == 200 and verified.json()["approved"] is True
    return verified.json()


def test_the_balance_answers_401_until_the_second_factor_then_200(api):
    client = api.test_client

    refused = client.get("/api/balance")

    assert refused.status_code == 401 and refused.headers["Content-Type"] == PROBLEM
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith("StepUp ") and 'error="insufficient_user_authentication"' in challenge
    assert refused.json()["code"] == "insufficient_user_authentication"
    assert refused.json()["challenges_url"] == "/stepup/api/challenges"
    assert verify_by_sms(api)["purpose"] == "login"
    assert api.sms.last.to == "+447700900001"
    balance = client.get("/api/balance")
    assert balance.status_code == 200
    assert balance.json() == {"user": "alice", "balance": "1250.00", "currency": "GBP"}


def test_an_old_second_factor_is_asked_again_with_the_routes_max_age(api):
    client = api.test_client
    verify_by_sms(api)
    api.clock.advance(300)
    assert client.get("/api/balance").status_code == 200

    api.clock.advance(1)
    stale = client.get("/api/balance")

    assert stale.status_code == 401
    assert 'error="insufficient_user_authentication"' in stale.headers["WWW-Authenticate"]
    assert 'max_age="300"' in stale.headers["WWW-Authenticate"] and stale.json()["max_age"] == 300
    verified = verify_by_sms(api, resume=stale.json()["resume"])
    assert verified["purpose"] == "step_up" and verified["next"] == "/api/balance"
    assert client.get("/api/balance").json()["balance"] == "1250.00"


def test_a_wrong_code_is_a_problem_document_and_the_balance_stays_shut(api):
    client = api.test_client
    created = client.post("/stepup/api/challenges", json={"method": "sms"}).json()
    wrong = "000000" if api.code("sms") != "000000" else "111111"

    answer = client.post(created["verify_url"], json={"code": wrong})

    assert answer.status_code == 400 and answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["attempts_left"] == 2
    assert client.get("/api/balance").status_code == 401


def test_a_held_login_may_sign_in_as_someone_else_or_out(api):
    # alice's login waits for its second factor; the client may still change its mind.
    client = api.test_client
    assert client.get("/api/balance").status_code == 401

    again = client.post("/login", json={"username": "bob", "password": "bob-password"})
    out = client.post("/logout")

    assert again.status_code == 200 and again.json() == {"user": "bob"}
    assert out.status_code == 204
    assert client.get("/api/balance").status_code == 401  # signed out: nothing is open


def test_a_pending_challenge_dies_at_logout_for_a_copy_of_the_cookie(api):
    client = api.test_client
    created = client.post("/stepup/api/challenges", json={"method": "sms"})
    assert created.status_code == 201
    copy = client.cookies.get("session")

    assert client.post("/logout").status_code == 204
    client.cookies.set("session", copy)  # the cookie as a thief copied it before the logout
    verified = client.post(created.json()["verify_url"], json={"code": api.code("sms")})

    assert verified.status_code == 403 and verified.json()["code"] == "login_ended"
    assert client.get("/api/balance").status_code == 401
