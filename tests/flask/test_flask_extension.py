"""What only the Flask adapter has: the extension and its factory pattern, Flask-Login as
the source of the user, and blueprints protected as a whole."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from stepup import ConfigurationError, grants
from stepup.flask import StepUp, state, step_up_required

JSON = {"Accept": "application/json"}
PAGE = {"Accept": "text/html"}


def make_app(name: str, **config: object) -> Flask:
    app = Flask(name)
    app.config.update(SECRET_KEY="flask-extension-secret-key-0123456789abcdef", STEPUP_STORE_URL="memory://", **config)
    return app


def test_one_extension_sets_up_apps_made_later_each_with_its_own_state(clock, sms, email):
    stepup = StepUp(clock=clock, sms=sms, email=email)
    first, second = make_app("first"), make_app("second", STEPUP_APP_NAME="Second")

    stepup.init_app(first)
    stepup.init_app(second)

    assert state(first) is first.extensions["stepup"] and state(second) is second.extensions["stepup"]
    assert state(first).engine is not state(second).engine
    assert state(second).settings.app_name == "Second" and state(first).settings.app_name != "Second"
    assert not any(isinstance(value, Flask) for value in vars(stepup).values())  # no app state on self
    assert "stepup" in first.blueprints and "stepup" in second.blueprints
    for app in (first, second):
        state(app).engine.close()


def test_key_lists_in_app_config_and_flasks_own_secret_key(clock, sms, email):
    old, new = "o" * 40, "n" * 40
    rotating = make_app("rotating", STEPUP_SECRET_KEY=f'["{old}", "{new}"]')  # as from_prefixed_env leaves it
    StepUp(rotating, clock=clock, sms=sms, email=email)
    assert state(rotating).settings.secret_key == (old, new)
    # Flask's SECRET_KEY stands in for STEPUP_SECRET_KEY as one key, whatever it holds.
    passphrase = Flask("passphrase")
    passphrase.config.update(SECRET_KEY="a passphrase, with spaces and commas, long enough", STEPUP_STORE_URL="memory://")
    StepUp(passphrase, clock=clock, sms=sms, email=email)
    assert state(passphrase).settings.secret_key == ("a passphrase, with spaces and commas, long enough",)
    for app in (rotating, passphrase):
        state(app).engine.close()


def test_an_app_without_the_extension_is_told_how_to_set_it_up():
    with pytest.raises(ConfigurationError, match=r"StepUp\(app\) or init_app\(app\)"):
        state(make_app("bare"))


def test_with_flask_login_the_user_is_flask_logins_not_the_session_key(bank):
    browser = bank.browser()
    with browser.client.client.session_transaction() as cookie_session:
        cookie_session["user_id"] = "alice"  # the default session key, which Flask-Login's apps do not use
    assert browser.get("/stepup/api/status").status_code == 401

    browser.login("carol")
    with browser.client.client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = "mallory"  # a user Flask-Login's loader does not know
    assert browser.get("/stepup/api/status").status_code == 401


def test_a_blueprint_protected_as_a_whole_covers_views_added_after(clock, sms, email):
    app = make_app("shop")
    admin = step_up_required(max_age=60)(Blueprint("admin", __name__, url_prefix="/admin"))
    admin.add_url_rule("/orders", "orders", lambda: "Every order")
    app.register_blueprint(admin)
    app.add_url_rule("/open", "open", lambda: "Open to all")
    StepUp(app, clock=clock, sms=sms, email=email)
    client = app.test_client()
    with client.session_transaction() as cookie_session:
        cookie_session["user_id"] = "dana"
    state(app).engine.set_login_2fa(False)

    asked = client.get("/admin/orders", headers=JSON)

    assert asked.status_code == 401
    assert 'error="insufficient_user_authentication"' in asked.headers["WWW-Authenticate"]
    assert client.get("/open").text == "Open to all"
    state(app).engine.close()


def _remembering_app(clock, sms, email) -> Flask:
    """An app whose users come back through Flask-Login's remember-me cookie."""
    from flask_login import LoginManager, UserMixin, login_required, login_user

    class User(UserMixin):
        def __init__(self, uid: str) -> None:
            self.id = uid

    app = make_app("remembering")
    manager = LoginManager(app)
    manager.user_loader(lambda uid: User(uid) if uid in ("erin", "frank") else None)
    app.add_url_rule("/login/<uid>", "login", lambda uid: str(login_user(User(uid), remember=True)), methods=["POST"])
    app.add_url_rule("/home", "home", login_required(lambda: "Home"))
    StepUp(app, clock=clock, sms=sms, email=email)
    return app


def test_a_login_through_the_remember_me_cookie_is_held_too(clock, sms, email):
    app = _remembering_app(clock, sms, email)
    browser = app.test_client()
    assert browser.post("/login/erin").status_code == 200
    remembered = browser.get_cookie("remember_token")
    assert remembered is not None
    # The browser closes: the session cookie goes, the remember-me cookie stays.
    comeback = app.test_client()
    comeback.set_cookie("remember_token", remembered.value)

    held = comeback.get("/home", headers=PAGE)

    assert held.status_code == 303 and held.location.startswith("/stepup/")
    state(app).engine.close()


def test_another_users_login_in_the_same_browser_is_held_anew(clock, sms, email):
    app = _remembering_app(clock, sms, email)
    browser = app.test_client()
    browser.post("/login/erin")
    with browser.session_transaction() as cookie_session:
        grants.record_factor(cookie_session, "erin", "sms", clock())
    assert browser.get("/home", headers=PAGE).text == "Home"

    browser.post("/login/frank")  # no logout in between

    held = browser.get("/home", headers=PAGE)
    assert held.status_code == 303 and held.location.startswith("/stepup/")
    state(app).engine.close()
