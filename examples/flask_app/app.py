"""The demo bank, as a Flask app with Flask-Login, protected by stepup.

stepup touches the app in four places: ``StepUp(app, ...)``, ``@step_up_required`` on
``/``, ``/transfer``, ``/standing-order`` and ``/api/balance``, and nothing else: the login
view is the app's own, and stepup holds the session after it until the second factor
passes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from stepup import Settings
from stepup.flask import StepUp, state, step_up_required
from stepup.web import PlainForm

from .. import _bank


class User(UserMixin):
    def __init__(self, username: str) -> None:
        self.id = username


LoginForm, TransferForm = _bank.LoginForm, _bank.TransferForm


def _form(cls: Any) -> Any:
    return cls.bind(request.form if request.method == "POST" else None, session, state().engine.keys)


def _logout_form() -> Any:
    return _form(PlainForm) if request.blueprint == "bank" and current_user.is_authenticated else None


bank = Blueprint("bank", __name__)
api = Blueprint("api", __name__)


@bank.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = _form(LoginForm)
    error = None
    if request.method == "POST" and form.validate():
        if _bank.check_password(form.username.data, form.password.data):
            session.clear()
            login_user(User(form.username.data))
            session["auth_source"] = "password"
            return redirect(url_for("bank.home"), 303)
        error = "Wrong username or password."
    return render_template("bank/login.html", form=form, error=error), 400 if request.method == "POST" else 200


@bank.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    form = _form(PlainForm)
    if request.method == "POST" and form.validate():
        state().end_login()  # before the session is cleared: it names the login to end
        logout_user()
        session.clear()
        return redirect(url_for("bank.login"), 303)
    error = form.first_error() if request.method == "POST" else None
    return render_template("bank/logout.html", error=error, logout_form=form), 400 if error else 200


@bank.route("/")
@login_required
@step_up_required(max_age=3600)
def home() -> Any:
    return render_template("bank/home.html", user=current_user.id)


@bank.route("/account")
@login_required
def account() -> Any:
    return render_template(
        "bank/account.html", user=current_user.id, bindings=state().engine.bindings(current_user.id),
        manage_url=url_for("stepup.account"),
    )


@bank.route("/transfer", methods=["GET"])
@login_required
def transfer_form() -> Any:
    return render_template("bank/transfer.html", user=current_user.id, form=_form(TransferForm), error=None)


@bank.route("/transfer", methods=["POST"])
@login_required
@step_up_required(operation="transfer of {amount} to {to}")
def transfer() -> Any:
    form = _form(TransferForm)
    amount = form.checked_amount()
    if amount is None:
        return render_template("bank/transfer.html", user=current_user.id, form=form, error=form.first_error()), 400
    _ledger().add(current_user.id, form.to.data, amount)
    return render_template("bank/transferred.html", user=current_user.id, to=form.to.data, amount=amount)


@bank.route("/standing-order", methods=["GET"])
@login_required
def standing_order_form() -> Any:
    form, orders = _form(TransferForm), _ledger().orders_of(current_user.id)
    return render_template("bank/standing_order.html", user=current_user.id, form=form, orders=orders, error=None)


@bank.route("/standing-order", methods=["POST"])
@login_required
@step_up_required(operation="monthly standing order of {amount} to {to}")
def standing_order() -> Any:
    form = _form(TransferForm)
    amount = form.checked_amount()
    if amount is None:
        orders, error = _ledger().orders_of(current_user.id), form.first_error()
        page = render_template("bank/standing_order.html", user=current_user.id, form=form, orders=orders, error=error)
        return page, 400
    _ledger().add_order(current_user.id, form.to.data, amount)
    return render_template("bank/standing_order_set.html", user=current_user.id, to=form.to.data, amount=amount)


@bank.route("/transfers")
@login_required
def transfers() -> Any:
    return render_template("bank/transfers.html", user=current_user.id, transfers=_ledger().of(current_user.id))


@bank.route("/admin/support")
def admin_support() -> Any:
    return redirect(url_for("stepup.console"), 303)


@bank.route("/admin/security")
@login_required
def admin_security() -> Any:
    return redirect(url_for("stepup.admin"), 303)


@api.route("/api/balance")
@login_required
@step_up_required(max_age=300)
def balance() -> Any:
    return jsonify({"user": current_user.id, "balance": "1250.00", "currency": "GBP"})


def _ledger() -> _bank.Ledger:
    from flask import current_app

    return current_app.extensions["demo_ledger"]  # type: ignore[no-any-return]


def _headers(response: Response) -> Response:
    """The bank's own pages: not framed, no referrer to other sites, not cached."""
    own_framing = "Content-Security-Policy" in response.headers  # stepup's pages say who may frame them
    for name, value in _bank.PAGE_HEADERS:
        if not (own_framing and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    return response


def create_app(config: dict[str, Any] | None = None, engine_options: dict[str, Any] | None = None) -> Flask:
    """The demo bank.

    :param config: overrides ``app.config`` (tests pass their own store and ledger files).
    :param engine_options: passed on to :class:`stepup.flask.StepUp` for the engine
        (tests pass a frozen ``clock`` and in-memory ``sms`` and ``email`` senders).
    """
    app = Flask(__name__, template_folder=str(_bank.TEMPLATES))
    app.config.update(_bank.settings_from_env("sqlite:///demo-stepup.sqlite3"))
    # What a login waiting for its second factor may still reach: logout, login, static files.
    app.config["STEPUP_LOGIN_EXEMPT"] = ("bank.logout", "bank.login", "static")
    app.config.update(config or {})
    # The session cookie under the newest of stepup's keys, older ones still read (rotation).
    *older, app.config["SECRET_KEY"] = _bank.secret_keys(app.config["STEPUP_SECRET_KEY"])
    app.config["SECRET_KEY_FALLBACKS"] = older
    # The session cookie: never sent on cross-site posts, never read by scripts, and only
    # over HTTPS when the bank is served so (STEPUP_SECURE_COOKIES, which stepup's own
    # cookie follows too).
    secure = Settings.from_mapping(app.config).secure_cookies
    flags = {"SAMESITE": "Lax", "HTTPONLY": True, "SECURE": secure}
    cookies = {
        f"{cookie}_{flag}": value for cookie in ("SESSION_COOKIE", "REMEMBER_COOKIE") for flag, value in flags.items()
    }
    app.config.update({key: value for key, value in cookies.items() if key not in (config or {})})
    login_manager = LoginManager(app)
    login_manager.login_view = "bank.login"
    login_manager.user_loader(lambda username: User(username) if username in _bank.USERS else None)
    app.register_blueprint(bank)
    app.after_request(_headers)
    # The bank's language switch (?lang=de), before stepup's hold so a held login switches too.
    app.before_request(lambda: _bank.chosen_language(session, request.args))
    # The bank's pages show a signed-in user "Log out": a form with its CSRF token. Made for
    # those only (not for stepup's pages, whose layout links to the logout page).
    app.context_processor(lambda: {"logout_form": _logout_form(), "admins": _bank.ADMINS})
    app.register_blueprint(api)
    # Prometheus scrapes /metrics: counters of challenges, sends per country, failures, locks.
    metrics = _bank.metrics()
    app.add_url_rule(
        "/metrics", "metrics", lambda: Response(metrics.render(), mimetype="text/plain; version=0.0.4")
    )
    StepUp(
        app, admin_check=lambda subject: subject in _bank.ADMINS, audit_hooks=[metrics],
        locale_selector=lambda: session.get(_bank.LANGUAGE_KEY), **(engine_options or {}),
    )  # fmt: skip
    app.extensions["demo_ledger"] = _bank.Ledger(app.config.get("DEMO_BANK_DB", _bank.ledger_path()))
    _bank.seed(state(app).engine)
    return app
