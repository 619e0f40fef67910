"""The lab: a small app with what the demo bank lacks, built twice, on Flask
(:mod:`.lab_flask`) and on Starlette (:mod:`.lab_starlette`), with the same routes and
behaviour:

- its own session login ``POST /login/<user>?source=sso`` and a logout that drops only the
  user id (stepup must notice the logout by itself);
- static files under ``/static``; ``GET /`` says whose home it is; ``/logout-history``,
  a page whose path only begins like the logout's;
- ``/report`` (``max_age=60``), ``/email-only`` (``methods=["email"]``), ``/passkey-only``
  (``methods=["passkey"]``);
- ``PUT``/``PATCH /items/<item>``: a JSON operation; ``DELETE /items/<item>``: an
  exception the app's own error handler answers with 423 for ``locked``;
- ``POST /pay``: a payment operation taking JSON or a form; ``POST /pay-by-sms``, the same
  accepting only SMS (``methods=["sms"]``);
- ``/vault/...`` protected as a whole (the policy's app ``vault``); the app ``lobby``, with
  ``/lobby/`` unprotected and ``/lobby/report`` protected;
- on Starlette only, a WebSocket ``/feed`` that sends one line naming the session's user;
- a hook that records every request it sees, so a replay's pass through the app's own
  machinery shows.

Users: dana (SMS and email), erin (TOTP), finn (nothing); dana is the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .banks import SECRET_KEY
from .browser import Browser
from .pages import Page
from .sites import FlaskSite, Outboxes, Site, StarletteSite

#: erin's authenticator secret.
ERIN_TOTP = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWC4TE"
ADMIN = "dana"


class ItemLocked(Exception):
    """Raised by the lab's DELETE view; the app's error handler answers 423."""


@dataclass
class LabRecords:
    """What the lab app saw and did."""

    #: "METHOD /path" of every request the app's own hook saw.
    seen: list[str] = field(default_factory=list)
    items: dict[str, Any] = field(default_factory=dict)
    payments: list[tuple[str, str]] = field(default_factory=list)


def lab_settings(tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The lab's stepup settings, ``config`` last."""
    return {
        "STEPUP_SECRET_KEY": SECRET_KEY,
        "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/lab.sqlite3",
        "STEPUP_TEST_NUMBER_PREFIXES": ("+447700900",),
        "STEPUP_ADMIN_APPS": ("vault",),
        "STEPUP_LIMIT_CHALLENGES_PER_SUBJECT": "100/15 minutes",
        "STEPUP_LIMIT_CHALLENGES_PER_TARGET": "100/15 minutes",
        "STEPUP_LIMIT_BOUND_CHALLENGES_PER_TARGET": "100/15 minutes",
        **config,
    }


def static_folder(tmp_path: Path) -> Path:
    """The lab's static files: ``app.css``."""
    static = tmp_path / "lab-static"
    static.mkdir(exist_ok=True)
    (static / "app.css").write_text("body { color: black; }")
    return static


def _login(browser: Browser, user: str, password: str | None, source: str) -> Page:
    return browser.post(f"{browser.script_root}/login/{user}", params={"source": source})


def _logout(browser: Browser) -> Page:
    return browser.post(f"{browser.script_root}/logout")


def build_lab(adapter: str, tmp_path: Path, outboxes: Outboxes, config: dict[str, Any], **engine: Any) -> Site:
    """The lab on ``adapter``, its users bound; ``config`` overrides its settings,
    ``engine`` the engine's store or SMS sender (see :meth:`Outboxes.engine_options`)."""
    from . import lab_flask, lab_starlette  # they build on this module

    records = LabRecords()
    settings = lab_settings(tmp_path, config)
    options: dict[str, Any] = {
        "totp_secrets": {"erin": ERIN_TOTP},
        "login": _login,
        "logout": _logout,
        "records": records,
    }
    site: Site
    if adapter == "flask":
        app = lab_flask.build(tmp_path, records, settings, **outboxes.engine_options(**engine))
        site = FlaskSite(app, outboxes, **options)
    else:
        app = lab_starlette.build(tmp_path, records, settings, **outboxes.async_engine_options(**engine))
        site = StarletteSite(app, outboxes, **options)
    if not site.bindings("dana"):
        site.call("import_binding", "dana", "sms", "+447700900101")
        site.call("import_binding", "dana", "email", "dana@example.com")
        site.call("import_binding", "erin", "totp", secret=ERIN_TOTP)
    return site
