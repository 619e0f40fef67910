"""A browser's name from its ``User-Agent``, as the account page and the support console
list remembered browsers: "Firefox on Windows". Rough on purpose: enough for a person to
tell their laptop from their phone, never used to decide anything."""

from __future__ import annotations

from .._i18n import T

__all__ = ["browser_name"]

#: (token in the agent, name), first match wins: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"), ("CriOS/", "Chrome"), ("Safari/", "Safari"),
)  # fmt: skip
_SYSTEMS = (
    ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
    ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
)  # fmt: skip


def browser_name(agent: str) -> str:
    """``"Firefox on Windows"``, ``"Chrome"``, or ``"Unknown browser"``: a marked text,
    shown in the page's language."""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser and system:
        return T("{browser} on {system}", browser=browser, system=system)
    return browser or (T("A browser on {system}", system=system) if system else T("Unknown browser"))
