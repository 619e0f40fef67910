"""The one object an adapter reaches every handler through: the groups of handlers,
composed around one shared core.

Each group is a class of its own holding the core (:class:`~stepup.web._common.WebCore`);
none inherits another. A group is made the first time a request needs it: most requests
need one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from .._core import Flow
from .._engine import AsyncEngine, Engine
from ._account_pages import AccountPages
from ._admin_page import AdminPage
from ._api import Api
from ._base import WebResult
from ._browsers import BrowserPages
from ._code_pages import CodePages
from ._common import ROUTES, WebCore
from ._config import WebConfig
from ._gate import Gate
from ._guards import Guards

__all__ = ["WebFlows"]

#: the group that answers each route of :data:`~stepup.web._common.ROUTES`, by attribute.
_GROUPS: dict[str, tuple[str, ...]] = {
    "code_pages": ("choose", "code", "resend"),
    "account_pages": ("bind_phone", "bind_email", "bind_totp", "bind_method", "recovery", "account", "unbind"),
    "browser_pages": ("forget_browser",),
    "admin_page": ("admin",),
    "api": (
        "api_status", "api_create", "api_verify", "api_resend", "api_cancel", "api_bindings", "api_unbind",
        "api_contact", "api_contact_check",
    ),
}  # fmt: skip
_GROUP_OF = {route: group for group, routes in _GROUPS.items() for route in routes}
if set(_GROUP_OF) != {name for name, _, _ in ROUTES}:  # a route without a handler, or the reverse
    raise RuntimeError("stepup.web: the route table and the handler groups disagree")


class WebFlows:
    """The web layer for one request: the route gate, the page groups and the JSON API.

    :param engine: the adapter's engine (sync or async; the handlers are flows).
    :param config: the adapter's web configuration.
    """

    def __init__(self, engine: Engine | AsyncEngine, config: WebConfig) -> None:
        self.core = WebCore(engine, config)

    def handler(self, name: str) -> Callable[..., Flow[WebResult]]:
        """The handler of the route ``name`` (a name of :data:`ROUTES`), a flow of
        ``(request, **path parameters)``."""
        handler: Callable[..., Flow[WebResult]] = getattr(getattr(self, _GROUP_OF[name]), name)
        return handler

    @cached_property
    def gate(self) -> Gate:
        """Route protection and the login hold."""
        return Gate(self.core)

    @cached_property
    def guards(self) -> Guards:
        """The checks of changes to sign-in methods, shared by the groups below."""
        return Guards(self.core, self.gate)

    @cached_property
    def code_pages(self) -> CodePages:
        """Choose a method, enter its code, send a new one."""
        return CodePages(self.core, self.guards)

    @cached_property
    def account_pages(self) -> AccountPages:
        """Bind, make recovery codes, list and remove bindings."""
        return AccountPages(self.core, self.guards)

    @cached_property
    def browser_pages(self) -> BrowserPages:
        """Forget this browser."""
        return BrowserPages(self.core)

    @cached_property
    def admin_page(self) -> AdminPage:
        """The policy's switches."""
        return AdminPage(self.core, self.guards)

    @cached_property
    def api(self) -> Api:
        """The JSON API."""
        return Api(self.core, self.guards)
