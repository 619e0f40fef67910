"""The event loop is never blocked: while one request waits on a slow SMS provider, other
requests (a page, a user's protected page) are served, and the slow one finishes after."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from examples import starlette_app
from stepup._otp import totp_at_step
from stepup.senders import AsyncSenderAdapter, MemorySender
from tests.support.banks import CAROL_TOTP, SECRET_KEY
from tests.support.pages import Page, forms_of
from tests.support.sites import engine_of


class SlowSender:
    """An async SMS provider that answers only when the test lets it."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.release = asyncio.Event()
        self.outbox: list[str] = []

    async def send(self, message) -> None:
        self.sending.set()
        await self.release.wait()
        self.outbox.append(message.to)


async def sign_in(client: httpx.AsyncClient, user: str) -> None:
    """The bank's own password login, from its form (CSRF token included)."""
    page = Page.from_httpx(await client.get("/login"))
    fields = {**forms_of(page.text)[-1].fields, "username": user, "password": f"{user}-password"}
    assert (await client.post("/login", data=fields)).status_code == 303


@pytest.mark.anyio
async def test_other_requests_are_served_while_a_slow_sender_sends(tmp_path: Path, clock) -> None:
    sms = SlowSender()
    config = {
        "STEPUP_SECRET_KEY": SECRET_KEY,
        "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/stepup.sqlite3",
        "DEMO_BANK_DB": str(tmp_path / "bank.sqlite3"),
    }
    app = starlette_app.create_app(
        config, clock=clock, sms=sms, email=AsyncSenderAdapter(MemorySender(), offload=False)
    )
    engine = engine_of(app)
    await engine.import_binding("alice", "sms", "+447700900001")
    await engine.import_binding("carol", "totp", secret=CAROL_TOTP)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bank") as alice,
        httpx.AsyncClient(transport=transport, base_url="http://bank") as carol,
        httpx.AsyncClient(transport=transport, base_url="http://bank") as stranger,
    ):
        await sign_in(carol, "carol")
        created = (await carol.post("/stepup/api/challenges", json={"method": "totp"})).json()
        code = totp_at_step(CAROL_TOTP, int(clock() // 30), 6)
        assert (await carol.post(created["verify_url"], json={"code": code})).status_code == 200
        await sign_in(alice, "alice")

        sending = asyncio.create_task(alice.post("/stepup/api/challenges", json={"method": "sms"}))
        await sms.sending.wait()
        login_page = await stranger.get("/login")
        home = await carol.get("/", headers={"Accept": "text/html"})

        assert login_page.status_code == 200 and "csrf_token" in login_page.text
        assert home.status_code == 200 and "Welcome, carol" in home.text
        assert not sending.done() and sms.outbox == []
        sms.release.set()
        answer = await sending
    await engine.close()

    assert answer.status_code == 201 and answer.json()["target"] == "+44 •••• ••0001"
    assert sms.outbox == ["+447700900001"]
