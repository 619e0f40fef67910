"""``StepUp``: the Flask extension.

``StepUp(app)`` or ``StepUp().init_app(app)`` reads ``STEPUP_*`` from ``app.config``,
keeps its state in ``app.extensions["stepup"]`` (nothing on ``self``), mounts the pages
and JSON API under ``STEPUP_URL_PREFIX``, holds fresh logins until their second factor
passes, and wraps ``app.wsgi_app`` to replay interrupted requests once.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from flask.sessions import SessionMixin
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from .. import grants
from .._config import Settings
from .._errors import ConfigurationError
from .._models import AuditEvent
from ..engine import Engine
from ..web import (
    CONTACT_ROUTES,
    FORM_TYPES,
    ROUTES,
    TEMPLATE_DIR,
    WebFlows,
    WebLayers,
    WebRequest,
    WebResult,
    end_login,
    identity_source,
    page_headers,
    response_headers,
    session_subject,
    subject_of,
    web_request,
)
from ._replay import ReplayMiddleware

__all__ = ["StepUp", "request_session", "state"]


class _State:
    """What one app's stepup holds: its engine, settings and loaders."""

    def __init__(
        self,
        engine: Engine,
        user_loader: Callable[[], str | None] | None,
        identity_source_loader: Callable[[], str | None] | None,
        admin_check: Callable[[str], bool] | None,
        locale_selector: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        self.locale_selector = locale_selector
        self.settings = engine.settings
        self.user_loader = user_loader
        self.identity_source_loader = identity_source_loader
        self.admin_check = admin_check
        self.exempt = frozenset(self.settings.login_exempt)
        self._layers = WebLayers(engine)
        self.headers = page_headers(self.settings)

    def subject(self, app: Flask | None = None) -> str | None:
        """The logged-in user's id: the loader, Flask-Login, or the session key.

        :param app: the current app, when the caller has it at hand.
        """
        if self.user_loader is not None:
            return subject_of(self.user_loader())
        # This runs on every request: each attribute read through one of Flask's proxies
        # costs more than the rest of the check, so each proxy is resolved once.
        manager = _login_manager(app or current_app._get_current_object())  # type: ignore[attr-defined]
        if manager is not None:
            user = _login_user(manager)
            return str(user.get_id()) if user.is_authenticated else None
        return session_subject(session, self.settings)

    def end_login(self) -> bool:
        """End the current session's login at logout: its pending challenges, unused
        approvals and saved requests stop working, for the session and any copy of its
        cookie. Call it in your logout view before you clear the session.

        :returns: ``False`` when the store is down and the end could not be recorded.
        """
        return self.engine.run(end_login(self.engine, request_session()))

    def identity_source(self) -> str:
        """How the user logged in."""
        loaded = self.identity_source_loader() if self.identity_source_loader is not None else None
        return identity_source(loaded, session, self.settings)

    def web(self) -> WebFlows:
        """The web layer for this request (links carry the script root)."""
        return self._layers.get(request.script_root, request.is_secure, self.admin_check, _blueprint_names)

    def web_request(self, subject: str | None, *, read_body: bool = True) -> WebRequest:
        """The current request as the web layer sees it.

        :param read_body: read (and keep) the body and form, at most ``max_resume_body``
            bytes of it: a larger one is not read at all (``too_large``). The login hold
            needs neither, only the ``Content-Type``.
        """
        r = request._get_current_object()  # type: ignore[attr-defined]  # once, not a proxy read a field
        content_type = r.content_type or ""
        body, too_large = b"", False
        if read_body and r.method not in ("GET", "HEAD"):
            body, too_large = _capped_body(self.settings.max_resume_body)
        readable = read_body and not too_large
        return web_request(
            self.settings, method=r.method, path=r.script_root + r.path,
            query_string=r.query_string.decode("latin-1"), args=r.args,
            headers=_LowerHeaders(r.headers), session=request_session(), subject=subject, peer=r.remote_addr,
            forwarded_for=r.headers.get("X-Forwarded-For", ""), cookies=r.cookies,
            content_type=content_type, body=body, too_large=too_large, is_json=readable and r.is_json,
            form=r.form if readable and r.mimetype in FORM_TYPES else None,
            locale_selector=self.locale_selector or _flask_babel_locale(),
        )  # fmt: skip

    def respond(self, result: WebResult) -> BaseResponse:
        """The Flask response for a web-layer result (a redirect is typed as Werkzeug's)."""
        response: BaseResponse
        if result.replay is not None:
            request.environ["stepup.replay"] = (result.replay, result.replay_grant)
            response = Response(status=204)
        elif result.redirect is not None:
            response = redirect(result.redirect, code=result.redirect_status)
        elif result.template is not None:
            response = make_response(render_template(result.template, **result.context), result.status)
        elif result.json is not None:
            response = make_response(jsonify(result.json), result.status)
        elif result.body is not None:
            response = Response(result.body, status=result.status)
        else:
            response = Response(status=result.status)
        for name, value, replace in response_headers(result, self.headers):
            if replace:
                response.headers[name] = value
            else:
                response.headers.add(name, value)
        return response


class _LowerHeaders(Mapping[str, str]):
    """Werkzeug's headers as the mapping the web layer reads, looked up by lower-case
    name (they are case-insensitive); a view, nothing copied."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        return self._headers[name]

    def __iter__(self) -> Iterator[str]:
        return (name.lower() for name in self._headers.keys())

    def __len__(self) -> int:
        return len(self._headers)


def _blueprint_names() -> list[str]:
    """The policy's apps of the current Flask app: its blueprints, stepup's own aside."""
    return [name for name in current_app.blueprints if name != "stepup"]


def _login_manager(app: Flask) -> Any:
    """Flask-Login's manager of ``app``, if Flask-Login is in use."""
    return getattr(app, "login_manager", None) if "flask_login" in sys.modules else None


def _login_user(manager: Any) -> Any:
    """The request's user, as Flask-Login's ``current_user`` gives it.

    ``current_user`` reads ``g._login_user``, loading it first with the manager's
    ``_load_user`` on the request's first read; this does the same without its proxies
    (``current_user``, ``g`` twice, ``current_app``): through them, the read costs more
    than the rest of stepup's work on a request it lets through. Should a version of
    Flask-Login keep the user elsewhere, ``current_user`` itself is read.
    """
    found = vars(g._get_current_object())
    user = found.get("_login_user")
    if user is None:
        load = getattr(manager, "_load_user", None)
        if load is not None:
            load()
            user = found.get("_login_user")
        if user is None:
            user = sys.modules["flask_login"].current_user._get_current_object()
    return user


def request_session() -> SessionMixin:
    """The session object itself, not Flask's proxy: the hot path reads it a few times,
    and each read through the proxy costs more than the check that needs it."""
    return session._get_current_object()  # type: ignore[attr-defined,no-any-return]


def state(app: Flask | None = None) -> _State:
    """The stepup state of ``app`` (default: the current app).

    :raises ConfigurationError: when stepup was not set up on the app.
    """
    target = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return target.extensions["stepup"]  # type: ignore[no-any-return]
    except KeyError:
        raise ConfigurationError("stepup is not set up on this app: call StepUp(app) or init_app(app).") from None


class StepUp:
    """The Flask extension.

    :param app: the app, or ``None`` to call :meth:`init_app` later.
    :param user_loader: returns the logged-in user's id; by default Flask-Login's
        ``current_user`` when Flask-Login is set up, else ``session[STEPUP_SESSION_USER_KEY]``.
    :param identity_source_loader: returns how the user logged in (``password``, ``sso``).
    :param admin_check: ``subject -> bool``; who may use the admin page.
    :param locale_selector: ``() -> locale`` (``"de"``, ``"zh-CN"``, a Babel ``Locale``,
        or ``None`` to leave it to the next rule) for stepup's pages and messages; without
        one, Flask-Babel's ``get_locale`` when the app uses Flask-Babel (docs/i18n.md).
    :param engine_options: passed to :class:`stepup.Engine` (``clock``, ``store``, ``sms``,
        ``email``, ``audit_hooks``...).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        user_loader: Callable[[], str | None] | None = None,
        identity_source_loader: Callable[[], str | None] | None = None,
        admin_check: Callable[[str], bool] | None = None,
        locale_selector: Callable[[], object] | None = None,
        audit_hooks: Iterable[Callable[[AuditEvent], None]] = (),
        **engine_options: Any,
    ) -> None:
        self._options = {
            "user_loader": user_loader,
            "identity_source_loader": identity_source_loader,
            "admin_check": admin_check,
            "locale_selector": locale_selector,
        }
        self._engine_options = {"audit_hooks": audit_hooks, **engine_options}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set stepup up on ``app``.

        :raises ConfigurationError: for a missing or weak key, an unknown URL or setting.
        """
        config = dict(app.config)
        if "STEPUP_SECRET_KEY" not in config and isinstance(app.config.get("SECRET_KEY"), str):
            # Flask's own key, whatever characters it holds: one key, never read as a list.
            config["STEPUP_SECRET_KEY"] = (app.config["SECRET_KEY"],)
        if "STEPUP_SECURE_COOKIES" not in config:
            # An app that says it runs on HTTPS gets Secure cookies from stepup too.
            https = bool(config.get("SESSION_COOKIE_SECURE")) or config.get("PREFERRED_URL_SCHEME") == "https"
            config["STEPUP_SECURE_COOKIES"] = https
        engine = Engine(Settings.from_mapping(config), **self._engine_options)
        app.extensions["stepup"] = _State(engine, **self._options)  # type: ignore[arg-type]
        app.register_blueprint(_blueprint(engine.settings), url_prefix=engine.settings.url_prefix)
        app.before_request(_hold_fresh_logins)
        app.wsgi_app = ReplayMiddleware(app.wsgi_app, engine.settings.url_prefix + "/code/")  # type: ignore[method-assign]


def _flask_babel_locale() -> Callable[[], object] | None:
    """Flask-Babel's locale selector, when the app uses Flask-Babel."""
    if "babel" not in current_app.extensions:
        return None
    try:
        selector = importlib.import_module("flask_babel").get_locale
    except (ImportError, AttributeError):  # another extension registered as "babel"
        return None
    return selector if callable(selector) else None


def _capped_body(limit: int) -> tuple[bytes, bool]:
    """The request body, read (and kept for the view) only up to ``limit`` bytes:
    ``(body, False)``, or ``(b"", True)`` for a larger one, of which no more than
    ``limit`` bytes were read (a declared ``Content-Length`` over it: none at all)."""
    if (request.content_length or 0) > limit:
        return b"", True
    before = request.max_content_length
    # One byte over the limit: a body sent without a length (chunked) is cut there by
    # Werkzeug, so a longer one shows as one byte too many.
    request.max_content_length = limit + 1 if before is None else min(before, limit + 1)
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return b"", True
    finally:
        request.max_content_length = before
    return (b"", True) if len(body) > limit else (body, False)


def _hold_fresh_logins() -> BaseResponse | None:
    """Track logins and logouts; a fresh login reaches only stepup's pages, static files
    and logout until its second factor passes."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    st = state(app)
    subject = st.subject(app)
    if grants.login_settled(request_session(), subject):
        return None
    exempt = request.blueprint == "stepup" or request.endpoint is None or request.endpoint in st.exempt
    if exempt and grants.login_begun(request_session(), subject):
        return None  # as Gate.login decides: a begun login's exempt requests go on
    req = st.web_request(subject, read_body=False)
    source, app = st.identity_source(), request.blueprint
    login = st.web().gate.login(req, exempt=exempt, identity_source=source, app=app)
    result = st.engine.run(login)
    return None if result is None else st.respond(result)


def _blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("stepup", __name__, template_folder=str(TEMPLATE_DIR))
    for name, path, methods in ROUTES:
        if name in CONTACT_ROUTES and not settings.contact_verification:
            continue  # mounted only when the app asks for it
        rule = path.replace("{", "<").replace("}", ">")
        bp.add_url_rule(rule, endpoint=name, view_func=_view(name), methods=list(methods))
    return bp


def _view(name: str) -> Callable[..., BaseResponse]:
    def view(**params: str) -> BaseResponse:
        st = state()
        web = st.web()
        result = st.engine.run(web.handler(name)(st.web_request(st.subject()), **params))
        return st.respond(result)

    view.__name__ = f"stepup_{name}"
    return view
