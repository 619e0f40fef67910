"""The WSGI middleware that replays a saved request once, after its approval.

It looks only at POSTs to stepup's code pages (every other request goes straight
through). When the approving view asks for a replay, the approving response is dropped,
its cookies (the session with the new grant) are carried over, and the saved request goes
through the whole app: its before-request hooks, view and error handlers run as for the
original, and its response is what the user sees.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from ..web import cookie_names, merge_cookies

__all__ = ["ReplayMiddleware"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_DROPPED = ("CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_COOKIE")


class ReplayMiddleware:
    """Wraps ``app.wsgi_app``.

    :param app: the WSGI app.
    :param code_path: the path prefix of stepup's code pages (``/stepup/code/``).
    """

    def __init__(self, app: WSGIApp, code_path: str) -> None:
        self.app = app
        self.code_path = code_path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not environ.get("PATH_INFO", "").startswith(self.code_path):
            return self.app(environ, start_response)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured[:] = [status, headers, exc_info]
            return lambda data: None

        body = self.app(environ, capture)
        replay = environ.get("stepup.replay")
        if replay is None:
            status, headers, exc_info = captured
            start_response(status, headers, exc_info)
            return body
        if hasattr(body, "close"):
            body.close()
        saved, grant = replay
        set_cookies = [v for k, v in captured[1] if k.lower() == "set-cookie"]
        cookie = merge_cookies(environ.get("HTTP_COOKIE", ""), set_cookies)
        replay_environ = _replay_environ(environ, saved, grant, cookie)

        def finish(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            own = cookie_names(v for k, v in headers if k.lower() == "set-cookie")
            carried = [("Set-Cookie", v) for v in set_cookies if not (cookie_names([v]) & own)]
            return start_response(status, [*headers, *carried], exc_info)

        return self.app(replay_environ, finish)


def _replay_environ(environ: dict[str, Any], saved: Any, grant: dict[str, Any], cookie: str) -> dict[str, Any]:
    replay = {
        k: v for k, v in environ.items() if not k.startswith(("werkzeug.", "stepup.", "flask.")) and k not in _DROPPED
    }
    data: bytes = saved.body
    script = environ.get("SCRIPT_NAME", "")
    path: str = saved["path"]
    replay.update(
        {
            "REQUEST_METHOD": saved["method"],
            "PATH_INFO": path[len(script) :] if script and path.startswith(script) else path,
            "QUERY_STRING": saved.get("query") or "",
            "CONTENT_TYPE": saved.get("content_type") or "",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_COOKIE": cookie,
            "stepup.replay_grant": grant,
        }
    )
    return replay
