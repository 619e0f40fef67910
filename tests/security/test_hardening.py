"""Hardening, on both adapters: what a visitor learns while the store is down (nothing but
"try again"), and the headers and cookie flags of stepup's answers."""

from __future__ import annotations

import logging

import pytest

import stepup
from stepup.stores import SQLiteStore
from tests.support.faults import FaultyStore
from tests.support.flows import held, signed_in

JSON = {"Accept": "application/json"}
#: what a Redis driver says when its server went away: the address, the errno.
DRIVER = (
    "The Redis store at redis://:hunter2@127.0.0.1:54813/0 is unavailable "
    "(Error 111 connecting to 127.0.0.1:54813. Connection refused)"
)


# -- the store down: a plain page for visitors, the details for the log -------------------------------


@pytest.fixture
def store(tmp_path, clock):
    return FaultyStore(SQLiteStore(tmp_path / "faulty.sqlite3", clock))


@pytest.fixture
def faulty(make_bank, store):
    return make_bank(store=store)


def test_the_503_while_the_store_is_down_tells_visitors_nothing_about_the_store(faulty, store, caplog):
    fresh, stale, waiting = faulty.browser(), signed_in(faulty), held(faulty)
    fresh.login("alice")
    faulty.clock.advance(3601)
    store.down, store.fault = True, DRIVER
    caplog.set_level(logging.WARNING, logger="stepup")

    answers = [
        fresh.get("/"),  # the login hold
        stale.get("/"),  # a protected route
        stale.get("/api/balance", headers=JSON),
        waiting.get("/stepup/"),  # stepup's own page
        waiting.post("/stepup/api/challenges", json={"method": "sms"}),  # the JSON API
    ]

    for answer in answers:
        assert answer.status_code == 503, (answer.status_code, answer.text[:300])
        for secret in ("127.0.0.1", "54813", "redis", "Error 111", "hunter2", "Redis"):
            assert secret not in answer.text, (secret, answer.text[:500])
        if answer.headers.get("Content-Type", "").startswith("application/problem+json"):
            problem = answer.json()
            assert problem["status"] == 503 and problem["code"] == "store_unavailable"
            assert problem["title"] == "This service is temporarily unavailable. Please try again in a minute."
        else:
            assert "temporarily unavailable" in answer.text and "try again in a minute" in answer.text
    # the operator's log has what happened, without the password
    assert "redis://127.0.0.1:54813/0" in caplog.text and "Error 111" in caplog.text
    assert "hunter2" not in caplog.text


# -- framing, referrers and cookie flags -------------------------------------------------------------

FRAMING = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def https(bank, path: str) -> str:
    """``path`` on the test client's own host, over HTTPS."""
    return ("https://localhost" if bank.adapter == "flask" else "https://testserver") + path


def stepup_answers(bank):
    """One of each kind of stepup's answers: pages, redirects, JSON, problems, a 503."""
    waiting, done = held(bank), signed_in(bank)
    choose = waiting.get("/stepup/")
    code_url = waiting.choose(choose, "sms").location
    done_stale = signed_in(bank, "carol", "totp")
    bank.clock.advance(3601)
    return {
        "choose page": choose,
        "code page": waiting.get(code_url),
        "redirect to the code page": waiting.choose(waiting.get("/stepup/"), "email"),
        "account page": done.get("/stepup/account"),
        "login hold redirect": waiting.get("/transfers"),
        "step-up redirect": done_stale.get("/"),
        "401 problem": done_stale.get("/api/balance", headers=JSON),
        "JSON API": waiting.post("/stepup/api/challenges", json={"method": "sms"}),
        "status": waiting.get("/stepup/api/status", headers=JSON),
        "404 problem": waiting.post("/stepup/api/challenges/nope/verify", json={"code": "1"}),
    }


def test_every_stepup_answer_forbids_framing_and_cross_site_referrers(bank):
    for what, answer in stepup_answers(bank).items():
        for name, value in FRAMING.items():
            assert answer.headers.get(name) == value, (what, answer.status_code, name, answer.headers.get(name))


def test_the_app_s_own_pages_are_left_as_they_are(lab):
    browser = lab.browser()
    browser.sign_in("dana", "sms")
    page = browser.get("/report")
    assert page.text == "The quarterly report" and page.headers.get("X-Frame-Options") is None


def test_the_demo_bank_s_own_pages_cannot_be_framed_or_cached(bank):
    # The example is what a new user copies: its balance and transfer pages guard
    # themselves as stepup's pages do, and are never kept in a shared cache.
    browser = signed_in(bank)
    for path in ("/", "/transfers", "/api/balance"):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert page.headers.get("X-Frame-Options") == "DENY", path
        assert page.headers.get("Content-Security-Policy") == "frame-ancestors 'none'", path
        assert page.headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize(
    ("ancestors", "legacy"), [("'self'", "SAMEORIGIN"), ("'self' https://portal.example", None)]
)
def test_a_setting_relaxes_framing(make_bank, ancestors, legacy):
    bank = make_bank(STEPUP_FRAME_ANCESTORS=ancestors)
    choose = held(bank).get("/stepup/")
    assert choose.headers.get("Content-Security-Policy") == f"frame-ancestors {ancestors}"
    assert choose.headers.get("X-Frame-Options") == legacy
    assert choose.headers.get("Referrer-Policy") == "same-origin"


def _set_cookie(page, name):
    return next(v for v in page.header_values("Set-Cookie") if v.startswith(f"{name}="))


def test_the_examples_session_cookie_is_lax_and_http_only_and_secure_on_https(make_bank):
    plain = _set_cookie(make_bank().browser().login("alice"), "session")
    secure = _set_cookie(make_bank(STEPUP_SECURE_COOKIES="1").browser().login("alice"), "session")

    for cookie in (plain, secure):
        assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower(), cookie
    assert "secure" not in plain.lower().replace("samesite", "") and "; secure" in secure.lower()


def _remember(bank, base=None):
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    form = browser.form(browser.get(code_url), "/stepup/code/")
    action = form.action if base is None else base(bank, form.action)
    done = browser.post(action, data={**form.fields, "code": bank.code("sms"), "remember": "y"})
    assert done.status_code == 303, done.text[:300]
    return _set_cookie(done, "stepup_device")


def test_the_remembered_browser_cookie_is_secure_when_the_app_runs_on_https(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30)

    over_http, over_https = _remember(bank), _remember(bank, https)

    for cookie in (over_http, over_https):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert "Secure" not in over_http and "; Secure" in over_https


@pytest.mark.parametrize("adapter", ["flask"])  # Starlette has no app-wide HTTPS setting to follow
def test_flask_apps_that_say_they_run_on_https_get_secure_stepup_cookies(make_bank):
    bank = make_bank(STEPUP_TRUSTED_DEVICE_DAYS=30, PREFERRED_URL_SCHEME="https", SESSION_COOKIE_SECURE=False)
    assert "; Secure" in _remember(bank)


@pytest.mark.parametrize("handler", ["stepup's", "FastAPI's default"])
def test_fastapi_s_401_carries_the_same_headers(tmp_path, outboxes, handler):
    # Without stepup's exception handler, FastAPI answers a dependency's stop through its
    # own HTTPException handler, which keeps only the headers stepup hands it.
    from examples import fastapi_app
    from stepup.asgi import StepUpRequired
    from tests.support.banks import SECRET_KEY
    from tests.support.sites import StarletteSite

    config = {"STEPUP_SECRET_KEY": SECRET_KEY, "STEPUP_STORE_URL": f"sqlite:///{tmp_path}/api.sqlite3"}
    app = fastapi_app.create_app(config, **outboxes.async_engine_options())
    if handler != "stepup's":
        del app.exception_handlers[StepUpRequired]
    site = StarletteSite(app, outboxes)
    try:
        client = site.test_client
        assert client.post("/login", json={"username": "alice", "password": "alice-password"}).status_code == 200
        created = client.post("/stepup/api/challenges", json={"method": "sms"}).json()
        assert client.post(created["verify_url"], json={"code": site.code("sms")}).status_code == 200
        site.clock.advance(301)  # past the route's max_age: its dependency stops the request

        refused = client.get("/api/balance")

        assert refused.status_code == 401
        for name, value in FRAMING.items():
            assert refused.headers.get(name) == value, (name, refused.headers)
    finally:
        site.close()


def test_a_failed_send_tells_visitors_nothing_of_the_provider(bank, caplog):
    # What a mail server or SMS provider said names hosts and accounts: the audit log keeps
    # it for the operator; the visitor's problem document and page say only what to do.
    inside = "cannot connect to smtp.internal.example:25 as relay-admin"
    caplog.set_level(logging.INFO, logger="stepup.audit")
    bank.sms.fail_with = stepup.DeliveryError("The SMS could not be sent.", "sms", inside)
    api, page = held(bank), held(bank)
    choose = page.follow(page.get("/"))

    problem = api.post("/stepup/api/challenges", json={"method": "sms"})
    shown = page.submit(choose, "/stepup/", binding=page.form(choose, "/stepup/").radios["binding"][0][0])

    assert problem.status_code == shown.status_code == 503
    assert problem.json()["code"] == "delivery_failed" and "reason" not in problem.json()
    for answer in (problem, shown):
        assert "smtp.internal" not in answer.text and "relay-admin" not in answer.text
    assert "smtp.internal.example:25" in caplog.text  # the operator still learns why
