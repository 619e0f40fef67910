"""A person's browser on a site, whatever the framework: its cookies, and helpers to read
and fill in the forms of a page (hidden fields, CSRF token included) and to go through
stepup's flows (log in, choose a method, enter a code).

A :class:`Browser` sends its requests through a *client*: Flask's test client (one per
browser, with its own cookies) or Starlette's ``TestClient`` (one per site, in process,
with each browser's own cookie jar); see :mod:`tests.support.sites`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .pages import Form, Page, forms_of

if TYPE_CHECKING:
    from .sites import Site

#: what the choose page calls each method.
METHOD_NAMES = {
    "sms": "Text message", "email": "Email", "totp": "Authenticator app", "recovery": "Recovery code",
    "passkey": "Passkey", "voice": "Voice call",  # voice: the example plug-in of tests/plugins/voice
}  # fmt: skip
#: what a browser's ``Accept`` says when it asks for a page or posts a form.
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_REDIRECTS = (301, 302, 303, 307, 308)


class Client(Protocol):
    """Sends one request for one browser, and keeps its cookies."""

    def cookie(self, name: str) -> str | None: ...

    def set_cookie(self, name: str, value: str) -> None: ...

    def request(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None,
        json: Any,
        content: str | bytes | None,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> Page: ...


class Browser:
    """One person's browser on a site.

    :param script_root: where the app is mounted (``SCRIPT_NAME``); URLs are given and
        read with it.
    """

    def __init__(self, site: Site, client: Client, script_root: str = "") -> None:
        self.site = site
        self.client = client
        self.script_root = script_root

    def open(
        self,
        url: str,
        method: str = "GET",
        *,
        data: dict[str, str] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        """Send a request: a form (``data``), a JSON body (``json``) or raw ``content``.
        Without a JSON body, it asks for a page as browsers do (give ``Accept`` to ask
        otherwise); with one, it accepts anything, as ``fetch`` does."""
        headers = dict(headers or {})
        if json is None:
            headers.setdefault("Accept", PAGE_ACCEPT)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.client.request(method, url, data=data, json=json, content=content, params=params, headers=headers)

    def cookie(self, name: str) -> str | None:
        """The value of one of the browser's cookies, or ``None``."""
        return self.client.cookie(name)

    def set_cookie(self, name: str, value: str) -> None:
        """Set a cookie as if the site had, or change one it set (a tampering user)."""
        self.client.set_cookie(name, value)

    def get(self, url: str, **kwargs: Any) -> Page:
        return self.open(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Page:
        return self.open(url, "POST", **kwargs)

    def follow(self, response: Page) -> Page:
        """GET where a redirect points."""
        assert response.status_code in _REDIRECTS, (response.status_code, response.text[:500])
        assert response.location is not None
        return self.get(response.location)

    def form(self, page: Page, action: str | None = None) -> Form:
        """The first form of ``page`` whose action contains ``action`` (any form if ``None``)."""
        for form in forms_of(page.text):
            if action is None or action in form.action:
                return form
        raise AssertionError(f"no form posting to {action!r} on {page.url}:\n{page.text[:3000]}")

    def press(self, page: Page, **hidden: str) -> Page:
        """Post the form of ``page`` whose hidden fields have these values (a switch)."""
        for form in forms_of(page.text):
            if all(form.fields.get(k) == v for k, v in hidden.items()):
                return self.post(form.action or page.url, data=form.fields)
        raise AssertionError(f"no form with {hidden} on {page.url}")

    def actions(self, page: Page) -> list[str]:
        """Where the forms of ``page`` post."""
        return [form.action for form in forms_of(page.text)]

    def submit(self, page: Page, action: str | None = None, **fields: str) -> Page:
        """Post a form of ``page`` as it stands, with ``fields`` filled in or changed; an
        empty action posts back to the page's own URL, as browsers do."""
        form = self.form(page, action)
        return self.post(form.action or page.url, data={**form.fields, **fields})

    # -- the flows a person goes through ----------------------------------------------

    def login(self, user: str, password: str | None = None, *, source: str = "password") -> Page:
        """Sign in with the site's own login (the first factor only); the lab takes the
        identity source too, as an SSO callback would set it."""
        return self.site.login(self, user, password, source)

    def logout(self) -> Page:
        return self.site.logout(self)

    def choose(self, page: Page, method: str) -> Page:
        """Pick ``method`` on a choose page; answers the redirect to the code page."""
        options = self.form(page, "/stepup/").radios.get("binding", [])
        name = METHOD_NAMES[method]
        wanted = [value for value, label in options if label == name or label.startswith(name + ":")]
        assert wanted, f"{method} is not offered: {options}"
        response = self.submit(page, "/stepup/", binding=wanted[0])
        assert response.status_code == 303 and "/stepup/code/" in (response.location or ""), (
            response.status_code,
            response.text[:2000],
        )
        return response

    def offered(self, page: Page) -> list[str]:
        """The methods a choose page offers, as their labels read."""
        return [label for _, label in self.form(page, "/stepup/").radios.get("binding", [])]

    def enter(self, code_url: str, code: str, **fields: str) -> Page:
        """Open a code page and submit ``code`` with it."""
        page = self.get(code_url)
        return self.submit(page, "/stepup/code/", code=code, **fields)

    def pass_challenge(self, choose_page: Page, method: str, code: str | None = None, **fields: str) -> Page:
        """Choose ``method`` and enter its right code (give ``code`` for recovery codes)."""
        code_url = self.choose(choose_page, method).location
        assert code_url is not None
        return self.enter(code_url, code or self.site.code(method), **fields)

    def sign_in(self, user: str, method: str, code: str | None = None) -> Page:
        """Log in and pass the second factor; answers the page the user lands on."""
        self.login(user)
        choose_page = self.follow(self.get(self.script_root + "/"))
        landed = self.pass_challenge(choose_page, method, code)
        assert landed.status_code == 303, (landed.status_code, landed.text[:2000])
        return self.follow(landed)
