"""The one object an adapter reaches every handler through: the groups of handlers,
composed around one shared core.

Each group is a class of its own holding the core (:class:`~stepup.web._common.WebCore`);
none inherits another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..engine import AsyncEngine, Engine, Flow
from ._account_pages import AccountPages
from ._admin_page import AdminPage
from ._api import Api
from ._base import WebResult
from ._browsers import BrowserPages
from ._code_pages import CodePages
from ._common import ROUTES, WebCore
from ._config import WebConfig
from ._console import ConsolePage
from ._contact_api import ContactApi
from ._gate import Gate
from ._guards import Guards
from ._passkey_pages import PasskeyPages

__all__ = ["WebFlows"]

#: the group that answers each route of :data:`~stepup.web._common.ROUTES`, by attribute.
_GROUPS: dict[str, tuple[str, ...]] = {
    "code_pages": ("choose", "code", "resend", "next_step"),
    "account_pages": (
        "bind_phone", "bind_email", "bind_totp", "bind_method", "recovery", "account", "unbind", "passkey_add",
    ),
    "browser_pages": ("forget_browser", "forget_browsers"),
    "admin_page": ("admin",),
    "console_page": ("console",),
    "passkey_pages": ("static", "passkey_rename", "api_passkey_options"),
    "api": (
        "api_status", "api_create", "api_verify", "api_resend", "api_cancel", "api_bindings", "api_unbind",
        "api_next",
    ),
    "contact_api": ("api_contact", "api_contact_check", "api_contact_cancel", "api_contact_next"),
}  # fmt: skip
_GROUP_OF = {route: group for group, routes in _GROUPS.items() for route in routes}
if set(_GROUP_OF) != {name for name, _, _ in ROUTES}:  # a route without a handler, or the reverse
    raise RuntimeError("stepup.web: the route table and the handler groups disagree")


class WebFlows:
    """The web layer for one request: the route gate, the page groups and the JSON API,
    each holding the same core.

    :param engine: the adapter's engine (sync or async; the handlers are flows).
    :param config: the adapter's web configuration.
    :ivar gate: route protection and the login hold.
    :ivar guards: the checks of changes to sign-in methods, shared by the groups below.
    """

    def __init__(self, engine: Engine | AsyncEngine, config: WebConfig) -> None:
        self.core = core = WebCore(engine, config)
        self.gate = Gate(core)
        self.guards = guards = Guards(core, self.gate)
        #: choose a method, enter its code, send a new one.
        self.code_pages = code_pages = CodePages(core, guards)
        self.gate.at_once = code_pages.at_once
        #: bind, make recovery codes, list and remove bindings.
        self.account_pages = AccountPages(core, guards)
        #: forget this browser; forget one or all from the account page.
        self.browser_pages = BrowserPages(core)
        #: the policy's switches.
        self.admin_page = AdminPage(core, guards)
        #: the support console.
        self.console_page = ConsolePage(core, guards)
        #: the JSON API.
        self.api = api = Api(core, guards)
        #: contact verification: request, check, cancel, next step.
        self.contact_api = ContactApi(core, api)
        #: rename passkeys, their options, the script that uses them.
        self.passkey_pages = PasskeyPages(core, guards)

    def handler(self, name: str) -> Callable[..., Flow[WebResult]]:
        """The handler of the route ``name`` (a name of :data:`ROUTES`), a flow of
        ``(request, **path parameters)``."""
        handler: Callable[..., Flow[WebResult]] = getattr(getattr(self, _GROUP_OF[name]), name)
        return handler


#: web layers :class:`WebLayers` keeps before it starts again: one per mount path and scheme
#: an app is served under, a handful (a root a proxy header sets cannot grow it unbounded).
_LAYERS_KEPT = 32


class WebLayers:
    """An adapter's :class:`WebFlows`, made once for each root path, scheme, admin check
    and app discovery its requests come with, not for every request (a dozen objects).

    :param engine: the adapter's engine.
    """

    def __init__(self, engine: Engine | AsyncEngine) -> None:
        self.engine = engine
        self._made: dict[tuple[Any, ...], WebFlows] = {}

    def get(
        self, root: str, https: bool, admin_check: Callable[[str], bool] | None, discover: Callable[[], Iterable[str]]
    ) -> WebFlows:
        """The web layer of a request under ``root``, over HTTPS or not (see
        :meth:`WebConfig.from_settings`)."""
        key = (root, https, admin_check, discover)
        layer = self._made.get(key)
        if layer is None:
            if len(self._made) >= _LAYERS_KEPT:
                self._made.clear()
            config = WebConfig.from_settings(
                self.engine.settings, root=root, admin_check=admin_check, https=https, discover=discover
            )
            layer = self._made[key] = WebFlows(self.engine, config)
        return layer
