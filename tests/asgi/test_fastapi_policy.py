"""The policy's apps under FastAPI: a route's ``require(app=...)`` and a mounted sub-app
are apps for 2FA at login and for the methods switched on, like a Flask blueprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI

from examples import fastapi_app
from stepup.asgi import require
from tests.support.banks import SECRET_KEY
from tests.support.sites import StarletteSite


@pytest.fixture
def make_api(serve, tmp_path: Path, outboxes):
    """``make_api(**config)``: the FastAPI example with ``/bank/statement`` (protected, app
    ``bank`` by ``require(app=...)``) and a sub-app mounted at ``/partners`` (unprotected);
    alice signed in with her password."""

    def make(**config: Any) -> StarletteSite:
        settings = {"STEPUP_SECRET_KEY": SECRET_KEY, "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/api.sqlite3", **config}
        app = fastapi_app.create_app(settings, **outboxes.async_engine_options())

        @app.get("/bank/statement", dependencies=[Depends(require(max_age=300, app="bank"))])
        async def statement() -> dict[str, str]:
            return {"statement": "March"}

        partners = FastAPI()

        @partners.get("/")
        async def partner_list() -> list[str]:
            return ["Acme"]

        app.mount("/partners", partners)
        site = serve(app)
        signed_in = site.test_client.post("/login", json={"username": "alice", "password": "alice-password"})
        assert signed_in.status_code == 200
        return site

    return make


def verify_by_sms(api: StarletteSite, resume: str | None = None) -> dict[str, Any]:
    client = api.test_client
    created = client.post("/stepup/api/challenges", json={"method": "sms", **({"resume": resume} if resume else {})})
    assert created.status_code == 201, created.text
    verified = client.post(created.json()["verify_url"], json={"code": api.code("sms")})
    assert verified.status_code == 200, verified.text
    return verified.json()  # type: ignore[no-any-return]


def test_login_2fa_per_app_holds_a_route_named_by_require_and_a_mounted_sub_app(make_api):
    api = make_api(STEPUP_LOGIN_2FA=False)
    api.call("set_login_2fa", True, "app", "bank")
    api.call("set_login_2fa", True, "app", "partners")
    client = api.test_client

    statement = client.get("/bank/statement")
    partners = client.get("/partners/")
    balance = client.get("/api/balance")  # no app: global, off; its route still asks a step-up

    for held in (statement, partners):
        assert held.status_code == 401 and held.json()["title"] == "A second factor is needed to sign in."
        assert "resume" not in held.json()
    assert balance.status_code == 401 and "resume" in balance.json()
    assert verify_by_sms(api)["purpose"] == "login"
    assert client.get("/partners/").json() == ["Acme"]
    assert client.get("/bank/statement").json() == {"statement": "March"}


def test_a_method_switched_off_for_an_app_named_by_require_stops_its_grants(make_api):
    api = make_api()
    client = api.test_client
    verify_by_sms(api)
    assert client.get("/bank/statement").status_code == 200

    api.call("set_method", "sms", False, "app", "bank")

    refused = client.get("/bank/statement")
    assert refused.status_code == 401 and "resume" in refused.json()
    assert client.get("/api/balance").status_code == 200
