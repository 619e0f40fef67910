"""Route protection for Starlette endpoints (a decorator) and FastAPI (a dependency)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..web import PAGE_HEADER_NAMES, Operation, grant_holds, operation_of
from ._apps import APP_ATTRIBUTE, mount_name
from ._state import state_of

__all__ = ["require", "step_up_required"]


def _fresh(request: Request, max_age: float, methods: frozenset[str] | None, app: str | None) -> bool:
    """The hot path: whether the session holds a fresh enough grant. Plain code, no await:
    a look-up of the grant log, a clock read and, where the policy switches methods per
    app or route, a look-up of what this one allows."""
    scope = request.scope
    st = state_of(scope)
    subject = st.subject(scope)
    if subject is None:
        return False
    return grant_holds(st.engine, scope["session"], subject, max_age, methods, _where, (scope, app))


def _where(context: tuple[MutableMapping[str, Any], str | None]) -> tuple[str | None, str | None]:
    """The policy's app and route of a routed request: the name given, else its mount."""
    scope, app = context
    route = getattr(scope.get("route"), "name", None) or scope["path"]
    root: str = scope.get("root_path") or ""
    return app or mount_name(root, scope.get("app_root_path", root)), route


async def _check(
    request: Request, max_age: float, methods: frozenset[str] | None, operation: Operation | None, app: str | None
) -> Response | None:
    """``None`` when the request may run; otherwise the response that stops it. The
    caller has checked the grant already (:func:`_fresh`, the hot path)."""
    st = state_of(request.scope)
    subject = st.subject(request.scope)
    req = await st.web_request(request, subject)
    # The policy's "app" is the name given, else the mount the route sits in ("/api" -> "api"):
    # the root path past the server's own (app_root_path, set by the first Mount).
    app, route = _where((request.scope, app))
    result = await st.engine.run(
        st.web(request.scope).gate.protect(
            req, max_age=max_age, methods=methods, operation=operation, app=app, route=route,
            replay_grant=request.scope.get("stepup.replay_grant"),
        )
    )  # fmt: skip
    if result is None:
        return None
    # No endpoint reads this request now: the files of a multipart form stepup parsed are
    # closed here (the replay after approval parses its own).
    await request.close()
    return st.respond(result, request.scope)


def step_up_required(
    max_age: float = 300,
    methods: Iterable[str] | None = None,
    operation: Operation | str | None = None,
    fields: Iterable[str] = (),
    app: str | None = None,
) -> Callable[[Callable[[Request], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """Protect a Starlette endpoint ``async def endpoint(request)``; the options are those
    of the Flask decorator: a recent second factor within ``max_age`` seconds, or with
    ``operation`` a one-time approval of each request bound to its fields.

    :param app: the policy's app name for this route (default: the mount it sits in).
    """
    accepted = frozenset(methods) if methods is not None else None
    op = operation_of(operation, fields)

    def decorator(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def protected(request: Request) -> Response:
            if op is None and _fresh(request, max_age, accepted, app):
                return await endpoint(request)
            stop = await _check(request, max_age, accepted, op, app)
            return await endpoint(request) if stop is None else stop

        if app is not None:
            setattr(protected, APP_ATTRIBUTE, app)  # the login hold and the admin page read it
        return protected

    return decorator


class StepUpRequired(HTTPException):
    """Raised by the FastAPI dependency; carries the response that stops the request."""

    def __init__(self, response: Response) -> None:
        kept = ("www-authenticate", "location", "retry-after", *PAGE_HEADER_NAMES)
        headers = {k: v for k, v in response.headers.items() if k.lower() in kept}
        super().__init__(
            status_code=response.status_code, detail=bytes(response.body).decode() or None, headers=headers
        )
        self.response = response


def require(
    max_age: float = 300,
    methods: Iterable[str] | None = None,
    operation: Operation | str | None = None,
    fields: Iterable[str] = (),
    app: str | None = None,
) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency: ``Depends(require(max_age=300))``.

    A request without a fresh enough second factor is answered with 401 and
    ``WWW-Authenticate: StepUp error="insufficient_user_authentication"`` (a redirect to
    stepup's pages for browsers). Add :func:`stepup_exception_handler` to answer with
    stepup's own body; FastAPI's default handler answers ``{"detail": ...}``.
    """
    accepted = frozenset(methods) if methods is not None else None
    op = operation_of(operation, fields)

    async def dependency(request: Request) -> None:
        if op is None and _fresh(request, max_age, accepted, app):
            return
        stop = await _check(request, max_age, accepted, op, app)
        if stop is not None:
            raise StepUpRequired(stop)

    if app is not None:
        setattr(dependency, APP_ATTRIBUTE, app)  # the login hold and the admin page read it
    return dependency


async def stepup_exception_handler(request: Request, exc: Exception) -> Response:
    """Answer :class:`StepUpRequired` with stepup's own response (problem document, redirect)."""
    if isinstance(exc, StepUpRequired):
        return exc.response
    raise exc
