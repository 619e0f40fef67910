"""Short cuts through the bank's and the lab's flows, for suites that attack them: a session
held after its password, one signed in, a transfer asked for, a JSON challenge, the
transfers the ledger shows, and what a same-site return URL looks like."""

from __future__ import annotations

import base64
import json
import threading
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from stepup.web import safe_next

from .browser import Browser
from .pages import Page
from .sites import Site

#: what the JSON API answers errors with.
PROBLEM = "application/problem+json"
#: return URLs that would leave the site, raw and encoded.
OFF_SITE = [
    "https://evil.example/",
    "http:evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%5Cevil.example",
    "%68ttps://evil.example",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "https:/\\evil.example",
]


def held(site: Site, user: str = "alice") -> Browser:
    """A browser after the password of ``user``, before the second factor."""
    browser = site.browser()
    browser.login(user)
    return browser


def signed_in(site: Site, user: str = "alice", method: str = "sms") -> Browser:
    """A browser past both factors."""
    browser = site.browser()
    browser.sign_in(user, method)
    return browser


def wrong_for(code: str) -> str:
    """A code of the same length that is not ``code``."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def transfers(browser: Browser) -> list[str]:
    """The bank's ledger for the browser's user, as its page lists it ("50.00 to bob")."""
    page = browser.get("/transfers").text
    return [line.split("</li>")[0] for line in page.split("<li>")[1:] if "No transfers" not in line]


def ask_transfer(browser: Browser, to: str = "bob", amount: str = "50", **extra: str) -> Page:
    """Post the transfer form as it stands with ``to`` and ``amount``: stepup stops it (303)."""
    return browser.submit(browser.get("/transfer"), "/transfer", to=to, amount=amount, **extra)


def challenge(browser: Browser, **body: Any) -> dict[str, Any]:
    """Start a challenge through the JSON API (``{"method": "sms"}`` by default)."""
    response = browser.post("/stepup/api/challenges", json=body or {"method": "sms"})
    assert response.status_code == 201, (response.status_code, response.text)
    return response.json()  # type: ignore[no-any-return]


def token_of(code_url: str) -> str:
    """The signed page token at the end of a code page's URL."""
    return urlsplit(code_url).path.rstrip("/").rsplit("/", 1)[1]


def api_url(code_url: str, action: str = "verify") -> str:
    """The JSON API's URL of the challenge a code page shows: ``verify`` or ``resend``."""
    return f"/stepup/api/challenges/{token_of(code_url)}/{action}"


def payload_of(token: str) -> Any:
    """What a signed token carries: signed, not secret (itsdangerous marks a compressed
    payload with a leading dot)."""
    raw = token.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    return json.loads(zlib.decompress(data) if token.startswith(".") else data)


def same_site(location: str | None) -> bool:
    """Whether a redirect stays on the site: a plain path that :func:`safe_next` keeps."""
    return location is not None and location.startswith("/") and safe_next(location, "") == location


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in a thread of its own, released together; their results in order
    (an exception is returned, not raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = call()
        except Exception as e:  # reported to the test, which asserts on it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing request never finished"
    return results


def run_processes(processes: list[Any], results: Any) -> list[Any]:
    """Start ``processes``, take one report each from the ``results`` queue, and check
    that every one exited cleanly."""
    for p in processes:
        p.start()
    reports = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    results.close()
    results.join_thread()
    return reports
