"""Nothing lost under load: many users at once against each example bank served by a real
server process on loopback (tests/support/servers.py, as the browser suite's), each
signing in with an SMS code read from the server's ``file://`` outbox and making a
transfer. Some approve theirs, some give up on it, some get the code wrong three times,
some send the approving form twice at once. Every approved transfer runs exactly once and
no other runs: each user's /transfers is exactly what they approved.

The users are the examples' load-test users (``DEMO_EXTRA_USERS``: ``user01``... each with
a phone of their own, so each reads only their own codes); all clients share one address,
so the per-client verification and challenge limits are raised for the run (``STEPUP_*`` from the
environment)."""

from __future__ import annotations

import concurrent.futures
import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import PAGE_ACCEPT
from tests.support.flows import race, wrong_for
from tests.support.pages import Page, forms_of
from tests.support.servers import APPS, Server, serve_example

USERS = 32
#: what a browser asks for: pages.
BROWSER = {"Accept": PAGE_ACCEPT}
#: what each user does with their transfer, by the user's number modulo 4.
PLANS = ["approve", "approve twice at once", "give up", "three wrong codes"]


@pytest.fixture(params=APPS, ids=[name for name, _ in APPS])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    _, module = request.param
    env = {
        "DEMO_EXTRA_USERS": str(USERS),
        "STEPUP_LIMIT_VERIFICATIONS_PER_CLIENT": "10000/minute",
        "STEPUP_LIMIT_CHALLENGES_PER_CLIENT": "10000/minute",
    }
    with serve_example(module, tmp_path, tmp_path / "server.log", **env) as running:
        yield running


class User:
    """One person, with a browser of their own (an httpx client keeping its cookies)."""

    def __init__(self, server: Server, number: int) -> None:
        self.server = server
        self.name = f"user{number:02d}"
        self.phone = f"+447700900{200 + number:03d}"
        self.plan = PLANS[number % len(PLANS)]
        self.amount = f"{number}.{number:02d}"
        self.payee = f"payee-{number:02d}"
        self.client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30, headers=BROWSER)

    def get(self, url: str, client: httpx.Client | None = None) -> Page:
        return Page.from_httpx((client or self.client).get(url))

    def post(self, url: str, data: dict[str, str], client: httpx.Client | None = None) -> Page:
        return Page.from_httpx((client or self.client).post(url, data=data))

    def fields(self, page: Page, action: str) -> dict[str, str]:
        form = next(f for f in forms_of(page.text) if action in f.action)
        return dict(form.fields)

    def choose_sms(self, choose_url: str) -> str:
        """Pick the phone on the choose page; the code page's URL."""
        page = self.get(choose_url)
        form = next(f for f in forms_of(page.text) if "/stepup/" in f.action)
        binding = next(value for value, label in form.radios["binding"] if label.startswith("Text message"))
        sent = self.post("/stepup/", {**form.fields, "binding": binding})
        assert sent.status_code == 303 and "/stepup/code/" in (sent.location or ""), (self.name, sent.status_code)
        return sent.location or ""

    def code_form(self, code_url: str) -> dict[str, str]:
        return self.fields(self.get(code_url), "/stepup/code/")

    def sign_in(self) -> None:
        page = self.get("/login")
        logged_in = self.post(
            "/login", {**self.fields(page, "/login"), "username": self.name, "password": f"{self.name}-password"}
        )
        assert logged_in.status_code == 303, (self.name, logged_in.status_code)
        held = self.get("/")
        assert held.status_code == 303, (self.name, held.status_code)
        code_url = self.choose_sms(held.location or "")
        done = self.post(code_url, {**self.code_form(code_url), "code": self.server.outbox.code_for(self.phone)})
        assert done.status_code == 303 and done.location == "/", (self.name, done.status_code, done.text[:300])
        assert f"Welcome, {self.name}" in self.get("/").text

    def transfer(self) -> list[str]:
        """Ask for the transfer and follow the plan; what the transferred pages said."""
        form = self.fields(self.get("/transfer"), "/transfer")
        asked = self.post("/transfer", {**form, "to": self.payee, "amount": self.amount})
        assert asked.status_code == 303 and (asked.location or "").startswith("/stepup/?r="), (
            self.name,
            asked.status_code,
        )
        code_url = self.choose_sms(asked.location or "")
        code = self.server.outbox.code_for(self.phone)
        approving = {**self.code_form(code_url), "code": code}
        if self.plan == "give up":
            return []
        if self.plan == "three wrong codes":
            answers = [self.post(code_url, {**approving, "code": wrong_for(code)}) for _ in range(3)]
            late = self.post(code_url, approving)
            assert [a.status_code for a in answers] == [400, 400, 410] and late.status_code == 410, self.name
            return [late.text]
        if self.plan == "approve twice at once":
            twin = httpx.Client(
                base_url=self.server.url,
                follow_redirects=False,
                timeout=30,
                headers=BROWSER,
                cookies=self.client.cookies,
            )
            try:
                answers = race([lambda: self.post(code_url, approving), lambda: self.post(code_url, approving, twin)])
            finally:
                twin.close()
            assert sorted(a.status_code for a in answers) == [200, 410], (self.name, [a.status_code for a in answers])
            return [a.text for a in answers]
        return [self.post(code_url, approving).text]

    def ledger(self) -> list[str]:
        page = self.get("/transfers").text
        return [item for item in re.findall(r"<li>([^<]*)</li>", page) if item != "No transfers yet."]

    def expected(self) -> list[str]:
        return [f"{self.amount} to {self.payee}"] if self.plan.startswith("approve") else []


def test_every_approved_transfer_runs_once_and_no_other_runs(server: Server) -> None:
    users = [User(server, number) for number in range(1, USERS + 1)]
    start = threading.Barrier(USERS)

    def session(user: User) -> list[str]:
        start.wait(timeout=30)
        user.sign_in()
        return user.transfer()

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=USERS) as pool:
            futures = {user.name: pool.submit(session, user) for user in users}
            said = {name: future.result(timeout=120) for name, future in futures.items()}
        ledgers = {user.name: user.ledger() for user in users}
    except BaseException:
        print((Path(server.outbox.path).parent / "server.log").read_text()[-5000:])
        raise
    finally:
        for user in users:
            user.client.close()

    for user in users:
        shown = sum(f"Transferred {user.amount} to {user.payee}" in text for text in said[user.name])
        assert shown == (1 if user.plan.startswith("approve") else 0), (user.name, user.plan)
        assert ledgers[user.name] == user.expected(), (user.name, user.plan, ledgers[user.name])
    assert sum(len(ledger) for ledger in ledgers.values()) == sum(u.plan.startswith("approve") for u in users)
    assert len(server.outbox.messages()) == 2 * USERS  # a sign-in code and a transfer code each
