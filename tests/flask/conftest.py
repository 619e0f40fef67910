"""Fixtures for the Flask adapter: the demo bank and a small "lab" app, fresh for each test.

Each app keeps its stepup store (and the bank its ledger) in a SQLite file under
``tmp_path`` and gets the suite's frozen ``clock`` and in-memory ``sms`` and ``email``
outboxes through ``StepUp``'s engine options. A :class:`Browser` drives an app through
Flask's test client the way a person's browser would: it reads the forms of a page (with
their hidden fields, CSRF token included) and submits them.

Test modules reach everything through the ``bank`` and ``lab`` fixtures (conftest
modules are not imported by name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Blueprint, Flask, jsonify, redirect, request, session
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import stepup
from examples.flask_app import create_app
from stepup._otp import totp_at_step
from stepup.flask import StepUp, state, step_up_required
from stepup.senders import MemorySender

SECRET_KEY = "flask-suite-secret-key-0123456789abcdef"
#: carol's authenticator secret in the bank (the demo default).
CAROL_TOTP = "JBSWY3DPEHPK3PXP"
#: erin's authenticator secret in the lab.
ERIN_TOTP = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWC4TE"
#: what the choose page calls each method.
METHOD_NAMES = {"sms": "Text message", "email": "Email", "totp": "Authenticator app", "recovery": "Recovery code"}
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


# -- reading pages ------------------------------------------------------------------------


@dataclass
class Form:
    """One ``<form>`` of a page: where it posts and what it would send as it stands."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    #: radio group name -> [(value, label text)].
    radios: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    checkboxes: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._radio: tuple[str, str] | None = None
        self._label: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            form, name, kind = self.forms[-1], a.get("name", ""), a.get("type", "text")
            if kind == "radio":
                form.radios.setdefault(name, [])
                self._radio, self._label = (name, a.get("value", "")), []
            elif kind == "checkbox":
                form.checkboxes.append(name)
            elif name:
                form.fields[name] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._radio is not None:
            self._label.append(data)
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._radio is not None:
            name, value = self._radio
            self.forms[-1].radios[name].append((value, " ".join("".join(self._label).split())))
            self._radio = None
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(" ".join("".join(self._button).split()))
            self._button = None


def forms_of(html: str) -> list[Form]:
    """The forms of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def url_of(response: TestResponse) -> str:
    """The URL (script root, path and query) a response answered."""
    query = response.request.query_string.decode()
    return response.request.script_root + response.request.path + (f"?{query}" if query else "")


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL, first value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# -- a browser ---------------------------------------------------------------------------


class Browser:
    """One person's browser on a site: its cookies, and helpers to fill in forms."""

    def __init__(self, site: Site, script_root: str = "") -> None:
        self.site = site
        self.client: FlaskClient = site.app.test_client()
        #: where the app is mounted (``SCRIPT_NAME``); URLs are given and read with it.
        self.script_root = script_root

    def open(self, url: str, method: str = "GET", **kwargs: Any) -> TestResponse:
        if self.script_root:
            assert url.startswith(self.script_root + "/"), url
            url, kwargs["base_url"] = url.removeprefix(self.script_root), f"http://localhost{self.script_root}/"
        return self.client.open(url, method=method, **kwargs)

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.open(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.open(url, "POST", **kwargs)

    def follow(self, response: TestResponse) -> TestResponse:
        """GET where a redirect points."""
        assert response.status_code in (301, 302, 303, 307, 308), (response.status_code, response.text[:500])
        return self.get(response.location)

    def form(self, page: TestResponse, action: str | None = None) -> Form:
        """The first form of ``page`` whose action contains ``action`` (any form if ``None``)."""
        for form in forms_of(page.text):
            if action is None or action in form.action:
                return form
        raise AssertionError(f"no form posting to {action!r} on {url_of(page)}:\n{page.text[:3000]}")

    def press(self, page: TestResponse, **hidden: str) -> TestResponse:
        """Post the form of ``page`` whose hidden fields have these values (a switch)."""
        for form in forms_of(page.text):
            if all(form.fields.get(k) == v for k, v in hidden.items()):
                return self.post(form.action or url_of(page), data=form.fields)
        raise AssertionError(f"no form with {hidden} on {url_of(page)}")

    def actions(self, page: TestResponse) -> list[str]:
        """Where the forms of ``page`` post."""
        return [form.action for form in forms_of(page.text)]

    def submit(self, page: TestResponse, action: str | None = None, **fields: str) -> TestResponse:
        """Post a form of ``page`` as it stands, with ``fields`` filled in or changed; an
        empty action posts back to the page's own URL, as browsers do."""
        form = self.form(page, action)
        return self.post(form.action or url_of(page), data={**form.fields, **fields})

    # -- the flows a person goes through ----------------------------------------------

    def login(self, user: str, password: str | None = None, *, source: str = "password") -> TestResponse:
        """Sign in with the site's own login (the first factor only); the lab takes the
        identity source too, as an SSO callback would set it."""
        return self.site.login(self, user, password, source)

    def logout(self) -> TestResponse:
        return self.site.logout(self)

    def choose(self, page: TestResponse, method: str) -> TestResponse:
        """Pick ``method`` on a choose page; answers the redirect to the code page."""
        options = self.form(page, "/stepup/").radios.get("binding", [])
        name = METHOD_NAMES[method]
        wanted = [value for value, label in options if label == name or label.startswith(name + ":")]
        assert wanted, f"{method} is not offered: {options}"
        response = self.submit(page, "/stepup/", binding=wanted[0])
        assert response.status_code == 303 and "/stepup/code/" in response.location, (
            response.status_code,
            response.text[:2000],
        )
        return response

    def offered(self, page: TestResponse) -> list[str]:
        """The methods a choose page offers, as their labels read."""
        return [label for _, label in self.form(page, "/stepup/").radios.get("binding", [])]

    def enter(self, code_url: str, code: str, **fields: str) -> TestResponse:
        """Open a code page and submit ``code`` with it."""
        page = self.get(code_url)
        return self.submit(page, "/stepup/code/", code=code, **fields)

    def pass_challenge(
        self, choose_page: TestResponse, method: str, code: str | None = None, **fields: str
    ) -> TestResponse:
        """Choose ``method`` and enter its right code (give ``code`` for recovery codes)."""
        code_url = self.choose(choose_page, method).location
        return self.enter(code_url, code or self.site.code(method), **fields)

    def sign_in(self, user: str, method: str, code: str | None = None) -> TestResponse:
        """Log in and pass the second factor; answers the page the user lands on."""
        self.login(user)
        choose_page = self.follow(self.get(self.script_root + "/"))
        landed = self.pass_challenge(choose_page, method, code)
        assert landed.status_code == 303, (landed.status_code, landed.text[:2000])
        return self.follow(landed)


# -- the sites -------------------------------------------------------------------------


@dataclass
class Site:
    """An app under test with its engine, outboxes and clock."""

    app: Flask
    sms: MemorySender
    email: MemorySender
    clock: stepup.FrozenClock
    totp_secrets: dict[str, str]
    login: Callable[[Browser, str, str | None, str], TestResponse]
    logout: Callable[[Browser], TestResponse]
    browsers: list[Browser] = field(default_factory=list)

    @property
    def engine(self) -> stepup.Engine:
        return state(self.app).engine

    def browser(self, script_root: str = "") -> Browser:
        """A new browser with empty cookies (on the app mounted at ``script_root``)."""
        b = Browser(self, script_root)
        self.browsers.append(b)
        return b

    def code(self, method: str, user: str | None = None) -> str:
        """The newest code a user would read: from the outbox, or their authenticator app."""
        if method == "totp":
            secret = self.totp_secrets[user] if user else next(iter(self.totp_secrets.values()))
            return totp_at_step(secret, int(self.clock() // 30), 6)
        outbox = {"sms": self.sms, "email": self.email}[method]
        match = _CODE.search(outbox.last.body)
        assert match is not None, outbox.last.body
        return match.group(1)

    def next_totp_step(self) -> None:
        """Move to the next TOTP time step (each step's code is accepted once)."""
        self.clock.advance(30 - self.clock() % 30)


def _bank_login(browser: Browser, user: str, password: str | None, source: str) -> TestResponse:
    page = browser.get("/login")
    return browser.submit(page, "/login", username=user, password=password or f"{user}-password")


def _bank_logout(browser: Browser) -> TestResponse:
    return browser.submit(browser.get("/logout"), "/logout")


def _lab_login(browser: Browser, user: str, password: str | None, source: str) -> TestResponse:
    return browser.post(f"{browser.script_root}/login/{user}", query_string={"source": source})


def _lab_logout(browser: Browser) -> TestResponse:
    return browser.post(f"{browser.script_root}/logout")


@pytest.fixture
def make_bank(
    tmp_path: Path, clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender
) -> Iterator[Callable[..., Site]]:
    """``make_bank(**config)``: the demo bank; ``config`` overrides ``app.config``."""
    made: list[Site] = []

    def make(**config: Any) -> Site:
        settings = {
            "TESTING": True,
            "STEPUP_SECRET_KEY": SECRET_KEY,
            "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/stepup.sqlite3",
            "DEMO_BANK_DB": str(tmp_path / "bank.sqlite3"),
            **config,
        }
        app = create_app(settings, engine_options={"clock": clock, "sms": sms, "email": email})
        site = Site(app, sms, email, clock, {"carol": CAROL_TOTP}, _bank_login, _bank_logout)
        made.append(site)
        return site

    yield make
    for site in made:
        site.engine.close()


@pytest.fixture
def bank(make_bank: Callable[..., Site]) -> Site:
    """The demo bank as it ships: alice (SMS and email), bob (nothing), carol (TOTP)."""
    return make_bank()


# -- the lab: what the bank does not have ------------------------------------------------


class ItemLocked(Exception):
    """Raised by the lab's DELETE view; the app's error handler answers 423."""


@dataclass
class LabRecords:
    """What the lab app saw and did."""

    #: "METHOD /path" of every request the app's own before_request hook saw.
    seen: list[str] = field(default_factory=list)
    items: dict[str, Any] = field(default_factory=dict)
    payments: list[tuple[str, str]] = field(default_factory=list)


def build_lab(tmp_path: Path, engine_options: dict[str, Any], config: dict[str, Any]) -> Flask:
    """A small app with its own session login (``/login/<user>?source=sso``), static
    files, a blueprint protected as a whole, route ``methods=``, PUT/PATCH/DELETE with
    JSON bodies, a JSON payment operation, a before_request hook and an error handler."""
    static = tmp_path / "lab-static"
    static.mkdir(exist_ok=True)
    (static / "app.css").write_text("body { color: black; }")
    app = Flask("lab", static_folder=str(static), static_url_path="/static")
    app.config.update(
        TESTING=True,
        SECRET_KEY=SECRET_KEY,
        STEPUP_STORE_URL=f"sqlite:///{tmp_path}/lab.sqlite3",
        STEPUP_TEST_NUMBER_PREFIXES=("+447700900",),
        STEPUP_ADMIN_APPS=("vault",),
        STEPUP_LIMIT_CHALLENGES_PER_SUBJECT="100/15 minutes",
        STEPUP_LIMIT_CHALLENGES_PER_TARGET="100/15 minutes",
    )
    app.config.update(config)
    records = LabRecords()
    app.extensions["lab"] = records

    @app.before_request
    def note() -> None:
        records.seen.append(f"{request.method} {request.path}")

    @app.errorhandler(ItemLocked)
    def locked(error: ItemLocked) -> Any:
        return jsonify(error="This item is locked."), 423

    @app.post("/login/<user>")
    def login(user: str) -> Any:
        session.clear()
        session["user_id"] = user
        session["auth_source"] = request.args.get("source", "password")
        return redirect("/")

    @app.post("/logout")
    def logout() -> Any:
        # Only the user id goes: stepup must notice the logout and end its own log.
        session.pop("user_id", None)
        return redirect("/")

    @app.get("/")
    def home() -> str:
        return f"Home of {session.get('user_id')}"

    @app.get("/report")
    @step_up_required(max_age=60)
    def report() -> str:
        return "The quarterly report"

    @app.get("/email-only")
    @step_up_required(max_age=60, methods=["email"])
    def email_only() -> str:
        return "Verified by email"

    @app.route("/items/<item>", methods=["PUT", "PATCH"])
    @step_up_required(operation="update of {name}", fields=["name", "colour"])
    def update_item(item: str) -> Any:
        records.items[item] = {**records.items.get(item, {}), **request.get_json()}
        return jsonify(item=item, **records.items[item])

    @app.delete("/items/<item>")
    @step_up_required(max_age=60)
    def delete_item(item: str) -> Any:
        if item == "locked":
            raise ItemLocked(item)
        records.items.pop(item, None)
        return jsonify(deleted=item)

    @app.post("/pay")
    @step_up_required(operation="payment of {amount} to {to}")
    def pay() -> Any:
        data = request.get_json(silent=True) or request.form
        records.payments.append((data["to"], data["amount"]))
        return jsonify(paid=data["amount"], to=data["to"])

    vault = Blueprint("vault", "lab.vault", url_prefix="/vault")

    @vault.get("/")
    def vault_index() -> str:
        return "The vault"

    @vault.get("/keys")
    def vault_keys() -> str:
        return "The keys"

    step_up_required(max_age=60)(vault)
    app.register_blueprint(vault)

    open_bp = Blueprint("lobby", "lab.lobby", url_prefix="/lobby")

    @open_bp.get("/report")
    @step_up_required(max_age=60)
    def lobby_report() -> str:
        return "The lobby report"

    app.register_blueprint(open_bp)
    StepUp(app, admin_check=lambda subject: subject == "dana", **engine_options)
    return app


@pytest.fixture
def make_lab(
    tmp_path: Path, clock: stepup.FrozenClock, sms: MemorySender, email: MemorySender
) -> Iterator[Callable[..., Site]]:
    """``make_lab(**config)``: the lab app; dana has SMS and email, erin TOTP, finn nothing."""
    made: list[Site] = []

    def make(**config: Any) -> Site:
        app = build_lab(tmp_path, {"clock": clock, "sms": sms, "email": email}, config)
        site = Site(app, sms, email, clock, {"erin": ERIN_TOTP}, _lab_login, _lab_logout)
        engine = site.engine
        if not engine.bindings("dana"):
            engine.import_binding("dana", "sms", "+447700900101")
            engine.import_binding("dana", "email", "dana@example.com")
            engine.import_binding("erin", "totp", secret=ERIN_TOTP)
        made.append(site)
        return site

    yield make
    for site in made:
        site.engine.close()


@pytest.fixture
def lab(make_lab: Callable[..., Site]) -> Site:
    """The lab app with stepup's defaults."""
    return make_lab()


@pytest.fixture
def lab_records(lab: Site) -> LabRecords:
    """What the ``lab`` app saw and did."""
    return lab.app.extensions["lab"]  # type: ignore[no-any-return]
