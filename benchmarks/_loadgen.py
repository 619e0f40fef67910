"""The load driver: concurrent HTTP/1.1 clients on loopback, in a process of their own.

``python -m benchmarks._loadgen SCENARIO --port PORT --clients N --seconds S --outbox PATH``
prints one JSON object: requests (or flows) done, seconds, the driver's own CPU seconds
meanwhile, latencies' percentiles, errors, and for the flow, every transfer the clients saw
executed.

Scenarios:

- ``protected``: each client signs in (password, then an SMS code), then asks for
  ``GET /api/balance`` (``step_up_required(max_age=300)``) as fast as it is answered.
- ``flow``: each client, again and again, with a new session: signs in, passes the SMS
  code, lands on ``/``, posts a transfer, approves it with a second SMS code, and sees
  the replayed transfer's page. Each request carries the Fetch Metadata a browser sends
  with a navigation, so, as for a browser, the choose page is skipped (the user has one
  method; the code is sent at once): the held login's answer is its code page, the
  transfer's a redirect through the choose page, 11 requests a flow. With
  ``--no-fetch-metadata`` the client says nothing: it is sent to the choose page and picks
  its one method there, 14 requests.

Only 127.0.0.1 is ever contacted; every loop stops at the time limit or the request limit.
The client is a few dozen lines over asyncio streams (on uvloop), with keep-alive, so that the driver
costs the machine far less than the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from ._servers import load_users

HOST = "127.0.0.1"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_FORM = re.compile(r'<form\b[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.I | re.S)


try:
    # uvloop (the bench extra), as the Starlette bank's server runs on: the driver's CPU
    # comes out of the two cores the server has, and its streams take a third less of it.
    import uvloop

    _LOOP: Any = uvloop.run
except ImportError:  # a checkout without the bench extra
    _LOOP = asyncio.run


class Failure(Exception):
    """A response that was not what the flow expects."""


class Response:
    def __init__(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
        self.status, self.headers, self.cookies, self.body = status, headers, cookies, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


#: what a browser sends with each request of these flows, all navigations (an address
#: typed, a link or a redirect followed, a form submitted): its Fetch Metadata. stepup
#: reads it: one usable method's code is sent at once on a same-site navigation, so a
#: browser skips the choose page that a client saying nothing is shown.
_NAVIGATION = ("Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document", "Sec-Fetch-User: ?1")


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 and a cookie jar.

    :param browser: send a browser's Fetch Metadata with each request (``False``: a client
        that sends none, as scripts and older browsers do).
    """

    def __init__(self, port: int, *, browser: bool = True) -> None:
        self.port = port
        self.browser = browser
        self.jar: dict[str, str] = {}
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.requests = 0
        #: seconds each request took, from its first byte written to its response read.
        self.latencies: list[float] = []

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, site: str = "same-origin"
    ) -> Response:
        """``site``: where the navigation came from (``none``: an address typed)."""
        body = urlencode(form).encode() if form is not None else b""
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {HOST}:{self.port}",
            "User-Agent: stepup-loadgen",
            "Accept: text/html",
        ]
        if self.browser:
            head += [f"Sec-Fetch-Site: {site}", *_NAVIGATION]
        if self.jar:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.jar.items()))
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        started = time.perf_counter()
        for attempt in (1, 2):
            if self._streams is None:
                self._streams = await asyncio.open_connection(HOST, self.port)
            reader, writer = self._streams
            try:
                writer.write(raw)
                response = await self._read(reader)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()  # the server closed a kept-alive connection: once more
                if attempt == 2:
                    raise
        self.requests += 1
        self.latencies.append(time.perf_counter() - started)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        for cookie in response.cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "01 jan 1970" in rest.lower() or "max-age=0" in rest.lower():
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookies.append(value)
            else:
                headers[name] = value
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Response(status, headers, cookies, body)


def _forms(page: str) -> dict[str, tuple[dict[str, str], list[str]]]:
    """action -> (the fields a browser would send as they stand, the radio values)."""
    forms: dict[str, tuple[dict[str, str], list[str]]] = {}
    for action, inner in _FORM.findall(page):
        fields: dict[str, str] = {}
        radios: list[str] = []
        for tag in _INPUT.findall(inner):
            attrs = dict(_ATTR.findall(tag))
            name = attrs.get("name")
            if not name:
                continue
            if attrs.get("type") == "radio":
                radios.append(html.unescape(attrs.get("value", "")))
            else:
                fields[name] = html.unescape(attrs.get("value", ""))
        forms[html.unescape(action)] = (fields, radios)
    return forms


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Outbox:
    """The newest code sent to each number, read from the server's JSON-lines outbox."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._rest = b""
        self.latest: dict[str, str] = {}

    def code_for(self, number: str) -> str:
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = self._rest + f.read()
            self._offset = f.tell()
        *lines, self._rest = data.split(b"\n")
        for line in lines:
            message = json.loads(line)
            match = _CODE.search(message["body"])
            if match:
                self.latest[message["to"]] = match.group(1)
        code = self.latest.pop(number, None)
        if code is None:
            raise Failure(f"no code in the outbox for {number}")
        return code


class Flow:
    """One load client's user and the steps of the bank's flows."""

    def __init__(self, client: Client, user: str, password: str, number: str, outbox: Outbox) -> None:
        self.c, self.user, self.password, self.number, self.outbox = client, user, password, number, outbox

    async def expect(
        self, method: str, path: str, status: int, form: dict[str, str] | None = None, *, site: str = "same-origin"
    ) -> Response:
        """The response, which must have ``status`` (any redirect for 303)."""
        response = await self.c.request(method, path, form, site=site)
        if response.status != status and not (status == 303 and response.status in (302, 303)):
            raise Failure(f"{method} {path}: {response.status}, expected {status}: {response.text[:300]!r}")
        return response

    async def second_factor(self, stopped: Response, *, login: bool = False) -> Response:
        """From the answer that stopped the request: the SMS binding's code sent (for a
        browser, at once: a held login's answer is the code page, an operation's the choose
        page that skips itself; a client without Fetch Metadata is sent to the choose page
        and picks it there), enter it; the response to the code (a redirect to what was
        asked, or the replayed request)."""
        location = stopped.headers["location"]
        if login and self.c.browser != ("/stepup/code/" in location):
            # A request without Fetch Metadata must never send a code (a prefetch, a script).
            raise Failure(f"stopped, then sent to {location!r}")
        if self.c.browser and not login:  # an operation goes through the choose page, skipped
            location = (await self.expect("GET", _path(location), 303)).headers["location"]
        elif not self.c.browser:
            chosen = await self.expect("GET", _path(location), 200)
            ((action, (fields, radios)),) = [(a, f) for a, f in _forms(chosen.text).items() if f[1]]
            if len(radios) != 1:
                raise Failure(f"expected one bound method, got {radios}")
            location = (await self.expect("POST", action, 303, {**fields, "binding": radios[0]})).headers["location"]
        code_path = _path(location)
        code_page = await self.expect("GET", code_path, 200)
        ((action, (fields, _)),) = [(a, f) for a, f in _forms(code_page.text).items() if "code" in f[0]]
        return await self.c.request("POST", action, {**fields, "code": self.outbox.code_for(self.number)})

    async def sign_in(self) -> None:
        self.c.jar.clear()
        login = await self.expect("GET", "/login", 200, site="none")
        fields, _ = _forms(login.text)["/login"]
        await self.expect("POST", "/login", 303, {**fields, "username": self.user, "password": self.password})
        done = await self.second_factor(await self.expect("GET", "/", 303), login=True)
        if done.status not in (302, 303):
            raise Failure(f"the login code answered {done.status}: {done.text[:300]!r}")
        await self.expect("GET", _path(done.headers["location"]), 200)

    async def transfer(self, to: str, amount: str) -> None:
        form_page = await self.expect("GET", "/transfer", 200)
        fields, _ = _forms(form_page.text)["/transfer"]
        stopped = await self.expect("POST", "/transfer", 303, {**fields, "to": to, "amount": amount})
        done = await self.second_factor(stopped)
        if done.status != 200 or f"Transferred {amount} to {to}" not in html.unescape(done.text):
            raise Failure(f"the approval answered {done.status}: {done.text[:300]!r}")


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1]}


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    outbox = Outbox(Path(args.outbox))
    users = load_users(args.clients)
    clients = [Client(args.port, browser=not args.no_fetch_metadata) for _ in users]
    flows = [Flow(c, u, p, n, outbox) for c, (u, p, n) in zip(clients, users, strict=True)]
    latencies: list[float] = []
    errors: list[str] = []
    transfers: list[str] = []
    done = 0
    budget = args.max_requests

    if args.scenario == "protected":
        await asyncio.gather(*(f.sign_in() for f in flows))
        for c in clients:
            c.requests = 0
            c.latencies.clear()

    deadline = time.perf_counter() + args.seconds
    started = time.perf_counter()
    cpu_started = time.process_time()

    async def protected(flow: Flow) -> None:
        nonlocal done
        while time.perf_counter() < deadline and done < budget:
            t = time.perf_counter()
            try:
                response = await flow.c.request("GET", "/api/balance")
                if response.status != 200 or b'"balance"' not in response.body:
                    raise Failure(f"/api/balance: {response.status} {response.text[:200]!r}")
            except Exception as e:  # counted and reported, never hidden
                errors.append(f"{type(e).__name__}: {e}")
                await flow.c.close()
                continue
            latencies.append(time.perf_counter() - t)
            done += 1

    async def whole_flow(flow: Flow, index: int) -> None:
        nonlocal done
        n = 0
        while time.perf_counter() < deadline and done < budget:
            n += 1
            to = f"c{index}n{n}"
            t = time.perf_counter()
            try:
                await flow.sign_in()
                await flow.transfer(to, "1.00")
            except Exception as e:  # counted and reported, never hidden
                errors.append(f"{type(e).__name__}: {e}")
                await flow.c.close()
                continue
            latencies.append(time.perf_counter() - t)
            transfers.append(f"{flow.user} {to}")
            done += 1

    if args.scenario == "protected":
        await asyncio.gather(*(protected(f) for f in flows))
    else:
        await asyncio.gather(*(whole_flow(f, i) for i, f in enumerate(flows)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    for c in clients:
        await c.close()
    return {
        "scenario": args.scenario,
        "clients": args.clients,
        "seconds": elapsed,
        "cpu": cpu,
        "done": done,
        "requests": sum(c.requests for c in clients),
        "errors": len(errors),
        "error_samples": errors[:5],
        "latency": _percentiles(latencies),
        "request_latency": _percentiles([t for c in clients for t in c.latencies]),
        "transfers": transfers,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["protected", "flow"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--outbox", required=True)
    parser.add_argument(
        "--no-fetch-metadata", action="store_true", help="send no Sec-Fetch-* headers (a client that is not a browser)"
    )
    args = parser.parse_args(argv)
    json.dump(_LOOP(_run(args)), sys.stdout)


if __name__ == "__main__":
    main()
