"""The policy's apps in an ASGI app: its mounts, and the routes given ``app=``.

A protected route's app is the name given to ``step_up_required(app=...)`` or
``require(app=...)``, else the last segment of the ``Mount`` it sits in (``/api`` is
``api``), else none. The login hold, which runs before the router, finds a request's app
the same way by matching the request against the routes; the admin page lists every app
found so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount

__all__ = ["APP_ATTRIBUTE", "app_names", "app_of", "mount_name", "routes_of"]

#: set on a protected endpoint (or a FastAPI dependency) by ``app=``.
APP_ATTRIBUTE = "stepup_app"
_DEPTH = 32


def routes_of(app: Any) -> Sequence[BaseRoute]:
    """The routes of the router inside ``app``, through the middleware around it."""
    for _ in range(_DEPTH):
        routes: Sequence[BaseRoute] | None = getattr(app, "routes", None)
        if routes is not None:
            return routes
        app = getattr(app, "app", None)
        if app is None:
            break
    return ()


def mount_name(root_path: str, app_root_path: str) -> str | None:
    """The app of a request a ``Mount`` routed: the mount's last path segment.

    :param root_path: the request's root path after routing (the mounts it went through).
    :param app_root_path: the root path the server gave (``--root-path``).
    """
    mount = root_path.removeprefix(app_root_path)
    return mount.rstrip("/").rpartition("/")[2] or None


def _named(route: Any) -> str | None:
    """The app a route's protection names with ``app=``, if it names one."""
    found = getattr(getattr(route, "endpoint", None), APP_ATTRIBUTE, None)
    if found is None:
        # FastAPI: ``Depends(require(app=...))`` on the route or its router.
        stack = list(getattr(getattr(route, "dependant", None), "dependencies", ()))
        while stack and found is None:
            dependant = stack.pop()
            found = getattr(getattr(dependant, "call", None), APP_ATTRIBUTE, None)
            stack.extend(getattr(dependant, "dependencies", ()))
    return found if isinstance(found, str) else None


def app_of(routes: Iterable[BaseRoute], scope: dict[str, Any]) -> str | None:
    """The app of the request ``scope`` before the router runs: what a protected route
    there would take as its app."""
    root = scope.get("app_root_path", scope.get("root_path", ""))
    found: str | None = None
    for _ in range(_DEPTH):
        inner: Iterable[BaseRoute] | None = None
        for route in routes:
            match, child = route.matches(scope)
            if match is not Match.FULL:
                continue
            if isinstance(route, Mount):
                scope = {**scope, **child}
                found = mount_name(str(scope.get("root_path", "")), root) or found
                inner = route.routes
            else:
                found = _named(route) or found
            break
        if inner is None:
            return found
        routes = inner
    return found


def app_names(routes: Iterable[BaseRoute]) -> list[str]:
    """Every app named in ``routes``: mounts with routes of their own (not static files,
    not stepup's own), nested ones too, and the names routes give with ``app=``."""
    names: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes
            name = route.path.rstrip("/").rpartition("/")[2]
            if inner and route.name != "stepup" and name and "{" not in name:
                names.append(name)
            names.extend(app_names(inner))
        elif (named := _named(route)) is not None:
            names.append(named)
    return list(dict.fromkeys(names))
