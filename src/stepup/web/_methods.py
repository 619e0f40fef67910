"""The methods as the pages offer them, built-in and plug-in alike: their titles, and
where a user binds each.

The built-in methods have pages of their own (a phone, an email address, an
authenticator app's QR code); a plug-in method whose codes stepup delivers is bound on
one generic page, ``bind/method/<name>``, whose field its :class:`~stepup.methods.TargetInput`
describes. Recovery codes are made, not bound; a held plug-in method (one with no
channel) needs pages of its own app and is not offered here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from .._i18n import N_, T
from ..methods import Method, method_title, target_input

__all__ = ["BUILTIN_BIND_PAGES", "BindOffer", "bind_offers", "method_titles"]

#: method -> (route of its own bind page, the account page's link, the words for it in
#: "Or use ..."). In this order a login with nothing bound is offered them, plug-ins after.
BUILTIN_BIND_PAGES: dict[str, tuple[str, str, str]] = {
    "sms": ("bind_phone", N_("Add a phone"), N_("a mobile number")),
    "email": ("bind_email", N_("Add an email"), N_("email")),
    "totp": ("bind_totp", N_("Add an authenticator app"), N_("an authenticator app")),
    "passkey": ("passkey_add", N_("Add a passkey"), N_("a passkey")),
}


@dataclass(frozen=True)
class BindOffer:
    """A method a user may bind on the pages.

    :ivar method: its name.
    :ivar url: its bind page.
    :ivar text: the link to it on the account page ("Add a phone").
    :ivar way: the words for it among the others ("a mobile number").
    """

    method: str
    url: str
    text: str
    way: str


def method_titles(methods: Mapping[str, Method]) -> dict[str, str]:
    """Each method's name for people ("Text message", "Voice call")."""
    return {name: method_title(method) for name, method in methods.items()}


def bind_offers(methods: Mapping[str, Method], allowed: Collection[str], url: Callable[..., str]) -> list[BindOffer]:
    """The methods a user may bind here, built-in ones first.

    :param methods: every registered method.
    :param allowed: the methods the policy leaves on for this user.
    :param url: the web layer's route builder.
    """
    offers: list[BindOffer] = []
    for name, (route, text, way) in BUILTIN_BIND_PAGES.items():
        if name in methods and name in allowed:
            offers.append(BindOffer(name, url(route), text, way))
    for name, method in methods.items():
        entry = target_input(method)
        if name in BUILTIN_BIND_PAGES or name not in allowed or entry is None:
            continue
        title = method_title(method)
        offers.append(
            BindOffer(name, url("bind_method", method=name), entry.heading or T("Add {method}", method=title), title)
        )
    return offers
