"""stepup's pages and JSON API as Starlette routes, to mount under ``/stepup``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from ..web import ROUTES
from ._state import state_of

__all__ = ["routes"]


def _endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        st = state_of(request.scope)
        subject = st.subject(request.scope)
        req = await st.web_request(request, subject)
        result = await st.engine.run(st.web(request.scope).handler(name)(req, **request.path_params))
        return st.respond(result, request.scope)

    endpoint.__name__ = f"stepup_{name}"
    return endpoint


def routes(prefix: str = "/stepup") -> Mount:
    """A ``Mount`` of stepup's pages and JSON API; put it in the app's routes.

    :param prefix: where to mount them; must equal the ``url_prefix`` setting.
    """
    return Mount(
        prefix,
        routes=[Route(path, _endpoint(name), methods=list(methods), name=name) for name, path, methods in ROUTES],
        name="stepup",
    )
