"""The web layer's configuration: the engine's settings, and what an adapter adds to them.

Every setting the pages read is read from :class:`stepup.Settings` itself, so each has one
name and one default. An adapter adds only what the settings cannot know: the script root
or mount path in front of the routes, whether the request came over HTTPS, who is an
admin, and which apps it found.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from .._config import Settings

__all__ = ["WebConfig"]


@dataclasses.dataclass(frozen=True)
class WebConfig:
    """How an adapter set the web layer up for one request.

    :ivar settings: the engine's settings; the pages read theirs from it.
    :ivar root: the script root or mount path in front of ``url_prefix``.
    :ivar admin_check: ``subject -> bool``; the admin page answers 403 without it.
    :ivar https: the request came over HTTPS (stepup's cookies are then Secure).
    :ivar discover: ``() -> app names`` the adapter found in the app (blueprints, mounts,
        routes given ``app=``); the admin page offers these besides ``admin_apps``.
    :ivar prefix: where stepup's routes are mounted, root included (``/stepup``).
    :ivar home: ``home_url``, under the root when it is a path.
    :ivar logout: ``logout_url``, under the root when it is a path.
    :ivar secure_cookies: ``secure_cookies``, or the request came over HTTPS.
    """

    settings: Settings
    root: str = ""
    admin_check: Callable[[str], bool] | None = None
    https: bool = False
    discover: Callable[[], Iterable[str]] = tuple
    prefix: str = dataclasses.field(init=False)
    home: str = dataclasses.field(init=False)
    logout: str = dataclasses.field(init=False)
    secure_cookies: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        # Worked out once here: the pages build a dozen links a request from them.
        root, s = self.root.rstrip("/"), self.settings
        derived = {
            "prefix": root + s.url_prefix,
            "home": _under(root, s.home_url),
            "logout": _under(root, s.logout_url),
            "secure_cookies": s.secure_cookies or self.https,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, root: str = "", admin_check: Callable[[str], bool] | None = None,
        https: bool = False, discover: Callable[[], Iterable[str]] = tuple,
    ) -> WebConfig:  # fmt: skip
        """The web configuration the settings describe, with what the adapter adds.

        :param settings: the engine's settings.
        :param root: the script root or mount path in front of ``url_prefix``.
        :param admin_check: who may use the admin page.
        :param https: the request came over HTTPS (stepup's cookies are then Secure).
        :param discover: finds the app's apps (blueprints, mounts) for the admin page.
        """
        return cls(settings, root=root, admin_check=admin_check, https=https, discover=discover)


def _under(root: str, url: str) -> str:
    """A setting's URL under the root when it is a path on this site; another site's as it is."""
    return root + url if url.startswith("/") else url
