"""The demo bank as a site under test, on Flask (``examples.flask_app``) or Starlette
(``examples.starlette_app``): the same routes, forms and users, so one suite drives both.

Each bank keeps its stepup store and its ledger in SQLite files under the test's
``tmp_path`` and gets the suite's frozen clock and in-memory outboxes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from examples import flask_app, starlette_app

from .browser import Browser
from .pages import Page
from .sites import FlaskSite, Outboxes, Site, StarletteSite

#: the key of every app the adapter suites build.
SECRET_KEY = "adapter-suite-secret-key-0123456789abcdef"
#: contact verification switched on, for callers not signed in too (a registration form):
#: off by default, so the suites that drive ``/stepup/api/verify`` ask for it.
CONTACT_VERIFICATION = {"STEPUP_CONTACT_VERIFICATION": "1", "STEPUP_CONTACT_VERIFICATION_ANONYMOUS": "1"}
#: the same with requests to a target that has one pending let through, for the suites that
#: fill a number's or address's limits with requests to it alone.
PARALLEL_CONTACT = {**CONTACT_VERIFICATION, "STEPUP_CONTACT_PARALLEL_REQUESTS": "1"}
#: carol's authenticator secret in the bank (the demo default).
CAROL_TOTP = "JBSWY3DPEHPK3PXP"


def _login(browser: Browser, user: str, password: str | None, source: str) -> Page:
    page = browser.get("/login")
    return browser.submit(page, "/login", username=user, password=password or f"{user}-password")


def _logout(browser: Browser) -> Page:
    return browser.submit(browser.get("/logout"), "/logout")


def _settings(tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "STEPUP_SECRET_KEY": SECRET_KEY,
        "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/stepup.sqlite3",
        "DEMO_BANK_DB": str(tmp_path / "bank.sqlite3"),
        **config,
    }


def build_bank(adapter: str, tmp_path: Path, outboxes: Outboxes, config: dict[str, Any], **engine: Any) -> Site:
    """The demo bank on ``adapter``; ``config`` overrides its settings (``STEPUP_*``),
    ``engine`` the engine's store or SMS sender (see :meth:`Outboxes.engine_options`)."""
    options: dict[str, Any] = {"totp_secrets": {"carol": CAROL_TOTP}, "login": _login, "logout": _logout}
    settings = _settings(tmp_path, config)
    # the bank's calls go to site.voice, unless the test names their sender
    engine.setdefault("voice", not {"STEPUP_SENDER_URLS", "STEPUP_VOICE_URL"} & set(config))
    if adapter == "flask":
        app = flask_app.create_app({"TESTING": True, **settings}, engine_options=outboxes.engine_options(**engine))
        return FlaskSite(app, outboxes, **options)
    app = starlette_app.create_app(settings, **outboxes.async_engine_options(**engine))
    return StarletteSite(app, outboxes, **options)
