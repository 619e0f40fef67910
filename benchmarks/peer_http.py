"""3c over HTTP: one SMS code asked for and checked through each side's own HTTP surface.

In process, through each app's WSGI stack with Flask's test client (the framework, the
session cookie, the views, the store; no sockets), in the same interleaved run as the
library-level cases of :mod:`benchmarks.peer_challenge`:

- Flask-Security-Too: ``POST /login`` (JSON, a user with SMS two-factor: checks the
  password, sends the code) + ``POST /tf-validate`` (JSON, the code), a new browser each
  time; and ``POST /login`` of a user without two-factor, whose time the page takes off
  (paired, round by round) to leave what its second factor costs.
- stepup, the Flask example bank on sqlite:/// (and redis://): its JSON API,
  ``POST /stepup/api/challenges`` + ``POST /stepup/api/challenges/<id>/verify``, and its
  pages, ``POST /stepup/choose`` + ``GET`` the code page + ``POST`` the code, for a user
  signed in once beforehand (a second factor needs no password again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._loadgen import _forms, _path

__all__ = ["FST_LOGIN", "fst_cases", "stepup_cases"]

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_JSON = {"Accept": "application/json"}
#: the case whose time is taken off Flask-Security-Too's login + code.
FST_LOGIN = "Flask-Security-Too HTTP: POST /login, no two-factor"


def _expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code}, expected {status}: {response.get_data(True)[:300]!r}")
    return response


def fst_cases(folder: Path) -> dict[str, Callable[[int], None]]:
    """Flask-Security-Too's login with its SMS code, and its login alone, over HTTP."""
    from ._fst import fst_sms_app
    from .peer_challenge import _Keep

    app, _, datastore, _ = fst_sms_app("bench_fst_http", f"sqlite:///{folder / 'fst-http.sqlite3'}", _Keep)
    with app.app_context():
        datastore.create_user(email="bob@example.com", password="bob-password")
        datastore.commit()

    def with_code(n: int) -> None:
        for _ in range(n):
            browser = app.test_client()
            asked = browser.post("/login", json={"email": "alice@example.com", "password": "alice-password"})
            if not _expect(asked, 200, "FST login").json["response"].get("tf_required"):
                raise RuntimeError("Flask-Security-Too asked for no second factor")
            _expect(browser.post("/tf-validate", json={"code": _Keep.code}), 200, "FST tf-validate")

    def login_only(n: int) -> None:
        for _ in range(n):
            browser = app.test_client()
            _expect(browser.post("/login", json={"email": "bob@example.com", "password": "bob-password"}), 200, "login")

    with_code(1)
    login_only(1)
    return {"Flask-Security-Too HTTP: POST /login + POST /tf-validate": with_code, FST_LOGIN: login_only}


def stepup_cases(name: str, store_url: str, folder: Path) -> dict[str, Callable[[int], None]]:
    """stepup's JSON API and pages on the Flask bank with ``store_url``, signed in once."""
    import stepup
    from examples.flask_app import create_app

    from . import _servers

    sms = stepup.senders.MemorySender()
    _servers._add_users()  # noqa: SLF001
    config = {
        **_servers._RAISED,  # noqa: SLF001
        "STEPUP_STORE_URL": store_url, "DEMO_BANK_DB": str(folder / f"ledger-{abs(hash(store_url))}.sqlite3"),
        "STEPUP_LIMIT_CHALLENGES_PER_SESSION": "100000000/15 minutes",
    }  # fmt: skip
    app = create_app(config, {"sms": sms, "email": stepup.senders.MemorySender()})
    user, password, _ = _servers.load_users(1)[0]

    def code() -> str:
        match = _CODE.search(sms.last.body)
        return match.group(1) if match else ""

    def signed_in() -> Any:
        """A new browser, its password accepted: held for its second factor."""
        browser = app.test_client()
        browser.environ_base["HTTP_ACCEPT"] = "text/html"  # a browser: pages, not problem documents
        login = _expect(browser.get("/login"), 200, "login page")
        fields, _ = _forms(login.get_data(True))["/login"]
        _expect(browser.post("/login", data={**fields, "username": user, "password": password}), 303, "login")
        return browser

    def second_factor(browser: Any) -> None:
        """The held login's pages: the choose page, its form, the code page, the code."""
        choose_url = _path(_expect(browser.get("/"), 303, "held").headers["location"])
        page = _expect(browser.get(choose_url), 200, "choose page").get_data(True)
        ((choose, (chosen, radios)),) = [(a, f) for a, f in _forms(page).items() if f[1]]
        asked = _expect(browser.post(choose, data={**chosen, "binding": radios[0]}), 303, "choose")
        form = _expect(browser.get(_path(asked.headers["location"])), 200, "code page").get_data(True)
        ((action, (fields, _)),) = [(a, f) for a, f in _forms(form).items() if "code" in f[0]]
        _expect(browser.post(action, data={**fields, "code": code()}), 303, "code")

    def pages(n: int) -> None:
        for _ in range(n):
            second_factor(signed_in())

    def login_only(n: int) -> None:
        for _ in range(n):
            signed_in()

    api = signed_in()
    second_factor(api)  # the JSON case's session is signed in from here on

    def json_api(n: int) -> None:
        for _ in range(n):
            started = _expect(api.post("/stepup/api/challenges", json={"method": "sms"}, headers=_JSON), 201, "start")
            _expect(api.post(started.json["verify_url"], json={"code": code()}, headers=_JSON), 200, "verify")

    pages(1)
    json_api(1)
    return {
        f"stepup HTTP JSON API, {name}: POST challenges + POST verify": json_api,
        f"stepup HTTP pages, {name}: sign in + the code pages": pages,
        f"stepup HTTP pages, {name}: sign in, no second factor": login_only,
    }
