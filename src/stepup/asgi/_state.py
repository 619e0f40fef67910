"""What one ASGI app's stepup holds, and how requests and responses are translated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.authentication import SimpleUser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import Scope

from .._config import Settings
from .._errors import ConfigurationError
from ..engine import AsyncEngine
from ..web import (
    FORM_TYPES,
    TEMPLATE_DIR,
    WebFlows,
    WebLayers,
    WebRequest,
    WebResult,
    end_login,
    identity_source,
    is_json_type,
    media_type,
    page_headers,
    response_headers,
    session_subject,
    subject_of,
    web_request,
)
from ._body import body_of

__all__ = ["StepUpState", "state_of"]

_NO_USER = object()


class StepUpState:
    """The engine, settings, loaders and templates of one app.

    :param engine: the async engine.
    :param user_loader: ``scope -> subject``; by default ``scope["user"]`` from
        Starlette's AuthenticationMiddleware, else ``session[STEPUP_SESSION_USER_KEY]``.
    :param identity_source_loader: ``scope -> source`` (``password``, ``sso``...).
    :param admin_check: ``subject -> bool``, who may use the admin page.
    :param template_dirs: the app's own template folders, searched before stepup's so an
        app can override ``stepup/*.html`` and give the layout ``base_template`` names.
    :param locale_selector: ``scope -> locale`` (``"de"``, ``"zh-CN"``, or ``None`` to
        leave it to the next rule) for stepup's pages and messages (docs/i18n.md).
    :param template_globals: names every stepup page's template sees, for the app's
        layout (what a Flask context processor gives it).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        user_loader: Callable[[Scope], str | None] | None = None,
        identity_source_loader: Callable[[Scope], str | None] | None = None,
        admin_check: Callable[[str], bool] | None = None,
        template_dirs: Iterable[str | Path] = (),
        locale_selector: Callable[[Scope], object] | None = None,
        template_globals: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.locale_selector = locale_selector
        self.settings: Settings = engine.settings
        self.user_loader = user_loader
        self.identity_source_loader = identity_source_loader
        self.admin_check = admin_check
        self.exempt = tuple(p for p in self.settings.login_exempt if p.startswith("/"))
        #: ``() -> app names`` found in the app, for the admin page (set by the middleware).
        self.discover: Callable[[], Iterable[str]] = tuple
        self._layers = WebLayers(self.engine)
        self.headers = page_headers(self.settings)
        loaders = [FileSystemLoader(str(d)) for d in template_dirs] + [FileSystemLoader(str(TEMPLATE_DIR))]
        # Templates are read once, as Flask does outside debug mode: checking each file's
        # time on every render is a stat a template (and its parents) a page.
        self.templates = Environment(
            loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        self.templates.globals.update(template_globals or {})

    def subject(self, scope: Scope) -> str | None:
        """The logged-in user's id: the loader, ``scope["user"]``, or (for an app without
        AuthenticationMiddleware, as in Flask without Flask-Login) the session key."""
        if self.user_loader is not None:
            return subject_of(self.user_loader(scope))
        user = scope.get("user", _NO_USER)
        if type(user) is SimpleUser:
            # Starlette's own user, signed in by definition: its name, without the two
            # property calls below (this runs on every request, twice on a protected one).
            return str(user.username)
        if user is _NO_USER:
            return session_subject(scope.get("session", {}), self.settings)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        try:
            return str(user.identity)
        except NotImplementedError:  # a user class that has only a display name
            return str(user.display_name)

    async def end_login(self, session: dict[str, Any]) -> bool:
        """End the login of ``session`` at logout: its pending challenges, unused approvals
        and saved requests stop working, for the session and any copy of its cookie. Call
        it in your logout view before you clear the session.

        :param session: ``request.session``.
        :returns: ``False`` when the store is down and the end could not be recorded.
        """
        return await self.engine.run(end_login(self.engine, session))

    def identity_source(self, scope: Scope) -> str:
        """How the user logged in."""
        loaded = self.identity_source_loader(scope) if self.identity_source_loader is not None else None
        return identity_source(loaded, scope.get("session", {}), self.settings)

    def web(self, scope: Scope) -> WebFlows:
        """The web layer for this request (links carry the mount path)."""
        # Inside a Mount, root_path includes the mount; app_root_path is the server's.
        root = scope.get("app_root_path", scope.get("root_path", ""))
        https = scope.get("scheme") == "https"  # as the server reports it (uvicorn --proxy-headers)
        return self._layers.get(root, https, self.admin_check, self.discover)

    async def web_request(self, request: Request, subject: str | None, *, read_body: bool = True) -> WebRequest:
        """The request as the web layer sees it.

        :param read_body: read (and keep) the body and form. The login hold needs neither,
            only the ``Content-Type``, by which a client that names no page in ``Accept``
            (curl, httpx) is told a form from an API call, as on Flask.
        """
        content_type = request.headers.get("content-type", "")
        body, too_large = b"", False
        if read_body and request.method not in ("GET", "HEAD"):
            read = await body_of(request, self.settings.max_resume_body)
            if read is None:
                too_large = True  # not read past the limit; every handler answers 413
            else:
                body, content_type = read
        # Read as Starlette and FastAPI read it: the media type in any case, with or
        # without parameters, and JSON's "+json" suffixes, so that what stepup approves is
        # what the app's view reads.
        media = media_type(content_type)
        form = await request.form() if read_body and not too_large and media in FORM_TYPES else None
        forwarded = ", ".join(request.headers.getlist("x-forwarded-for")) if self.settings.trusted_proxy_hops else ""
        return web_request(
            self.settings, method=request.method, path=request.url.path, query_string=request.url.query,
            args=request.query_params, headers=request.headers, session=request.session, subject=subject,
            peer=request.client.host if request.client else None, forwarded_for=forwarded, cookies=request.cookies,
            content_type=content_type, body=body, too_large=too_large, is_json=is_json_type(media), form=form,
            locale_selector=self._selector(request.scope),
        )  # fmt: skip

    def _selector(self, scope: Scope) -> Callable[[], object] | None:
        """The app's locale selector for this request, asked only when words are needed."""
        selector = self.locale_selector
        return None if selector is None else lambda: selector(scope)

    def respond(self, result: WebResult, scope: Scope) -> Response:
        """The Starlette response for a web-layer result."""
        response: Response
        if result.replay is not None:
            box = scope.get("stepup.box")
            if box is None:
                raise ConfigurationError("Replaying needs StepUpMiddleware around the app.")
            box["replay"] = (result.replay, result.replay_grant)
            response = Response(status_code=204)
        elif result.redirect is not None:
            response = RedirectResponse(result.redirect, status_code=result.redirect_status)
        elif result.template is not None:
            page = self.templates.get_template(result.template).render(**result.context)
            response = HTMLResponse(page, status_code=result.status)
        elif result.json is not None:
            response = JSONResponse(result.json, status_code=result.status)
        elif result.body is not None:
            response = Response(result.body, status_code=result.status)
        else:
            response = Response(status_code=result.status)
        for name, value, replace in response_headers(result, self.headers):
            if replace:
                response.headers[name] = value
            else:
                response.headers.append(name, value)
        return response


def state_of(scope: Scope) -> StepUpState:
    """The stepup state StepUpMiddleware put in the scope.

    :raises ConfigurationError: when the middleware is missing.
    """
    found = scope.get("stepup")
    if not isinstance(found, StepUpState):
        raise ConfigurationError("Add stepup.asgi.StepUpMiddleware to the app (inside SessionMiddleware).")
    return found
