"""An app that uses Flask-Babel gets stepup's pages in the language Flask-Babel picks for
its own, unless it gives stepup a locale selector of its own."""

from __future__ import annotations

from flask import Flask, session
from flask_babel import Babel

from stepup.flask import StepUp, state

KEY = "flask-babel-secret-key-0123456789abcdefghij"


def _app(clock, sms, email, **options) -> Flask:
    app = Flask("babel_app")
    app.config.update(SECRET_KEY=KEY, STEPUP_STORE_URL="memory://")
    Babel(app, locale_selector=lambda: "de")
    StepUp(app, clock=clock, sms=sms, email=email, **options)

    @app.get("/hold")
    def hold() -> str:  # a fresh password login: stepup holds it for its second factor
        session["user_id"] = "alice"
        return "held"

    state(app).engine.import_binding("alice", "sms", "+447400123456")
    return app


def test_flask_babels_locale_is_stepups(clock, sms, email):
    app = _app(clock, sms, email)
    client = app.test_client()
    client.get("/hold")
    page = client.get("/stepup/?next=/", headers={"Accept": "text/html", "Accept-Language": "fr"})
    assert page.status_code == 200 and '<html lang="de">' in page.get_data(as_text=True)
    assert "Bestätigen Sie, dass Sie es sind" in page.get_data(as_text=True)
    state(app).engine.close()


def test_the_apps_own_selector_wins_over_flask_babel(clock, sms, email):
    app = _app(clock, sms, email, locale_selector=lambda: "ja")
    client = app.test_client()
    client.get("/hold")
    page = client.get("/stepup/?next=/", headers={"Accept": "text/html"})
    assert '<html lang="ja">' in page.get_data(as_text=True) and "ご本人確認" in page.get_data(as_text=True)
    state(app).engine.close()
