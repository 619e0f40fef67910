"""CPU per whole flow, in process: the load test's flow without a server or a network.

``python -m benchmarks.flowcpu [--flows N] [--rounds R] [--adapter flask|starlette]``
runs the load driver's flow (:mod:`benchmarks._loadgen`: sign in, the SMS code, ``/``, a
transfer stopped for its approval, its SMS code, the replayed transfer; 11 requests, each
with a browser's Fetch Metadata, so that the choose page is skipped as for a browser)
through each example bank in this process, the Flask bank through its test client, the
Starlette bank through Starlette's ``TestClient``, on SQLite (or ``--store URL``), and
prints the CPU time (``time.process_time``: every thread of the process) per flow.

``--compare SRC`` times another copy of stepup's ``src`` folder (say, main's, from
``git archive``) against this one: each round runs both, in alternating order, each in
a fresh process, and the ratio is the median of the rounds' ratios. CPU time, not wall
time, so that what other processes take from a busy machine stays out of the figure.
``--json`` prints one process's figures for the comparison to read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import html
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ._loadgen import Failure, Outbox, _forms, _path

__all__ = ["run_flows"]

ROOT = Path(__file__).resolve().parent.parent
USERS = 2

#: ``await request(method, path, form)``: one request through a bank.
Request = Callable[[str, str, dict[str, str] | None], Awaitable["_Answer"]]


#: what the load driver's browser sends with each request (its Fetch Metadata).
_BROWSER = {
    "Accept": "text/html", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
}  # fmt: skip
#: and with the address typed (the sign-in page).
_TYPED = {**_BROWSER, "Sec-Fetch-Site": "none"}


def _headers(path: str, form: dict[str, str] | None) -> dict[str, str]:
    """A browser's headers: the sign-in page typed into the address bar, the rest navigated to."""
    return _TYPED if path == "/login" and not form else _BROWSER


class _Answer:
    """What the flow reads of a response, from either test client."""

    def __init__(self, status: int, location: str, text: str) -> None:
        self.status, self.location, self.text = status, location, text


def _flask_client(app: Any) -> Request:
    client = app.test_client()

    async def request(method: str, path: str, form: dict[str, str] | None) -> _Answer:
        r = client.open(path, method=method, data=form, headers=_headers(path, form))
        return _Answer(r.status_code, r.headers.get("Location", ""), r.get_data(as_text=True))

    return request


def _starlette_client(client: Any) -> Request:
    async def request(method: str, path: str, form: dict[str, str] | None) -> _Answer:
        r = await client.request(method, path, data=form, headers=_headers(path, form))
        return _Answer(r.status_code, r.headers.get("location", ""), r.text)

    return request


async def _flow(request: Request, user: tuple[str, str, str],
          outbox: Outbox, to: str) -> None:  # fmt: skip
    """One whole flow, as :class:`benchmarks._loadgen.Flow` runs it over HTTP."""
    name, password, number = user

    async def expect(method: str, path: str, status: int, form: dict[str, str] | None = None) -> _Answer:
        answer = await request(method, path, form)
        if answer.status != status and not (status == 303 and answer.status in (302, 303)):
            raise Failure(f"{method} {path}: {answer.status}, expected {status}: {answer.text[:300]!r}")
        return answer

    async def second_factor(location: str) -> _Answer:
        if "/stepup/code/" not in location:  # an operation's choose page, which a browser skips
            location = (await expect("GET", _path(location), 303)).location
        code_page = await expect("GET", _path(location), 200)
        ((action, (fields, _)),) = [(a, f) for a, f in _forms(code_page.text).items() if "code" in f[0]]
        return await request("POST", action, {**fields, "code": outbox.code_for(number)})

    login = await expect("GET", "/login", 200)
    fields, _ = _forms(login.text)["/login"]
    await expect("POST", "/login", 303, {**fields, "username": name, "password": password})
    held = (await expect("GET", "/", 303)).location
    if "/stepup/code/" not in held:  # a held login's browser goes straight to its code page
        raise Failure(f"the held login was sent to {held!r}, not to its code page")
    done = await second_factor(held)
    await expect("GET", _path(done.location), 200)
    fields, _ = _forms((await expect("GET", "/transfer", 200)).text)["/transfer"]
    stopped = await expect("POST", "/transfer", 303, {**fields, "to": to, "amount": "1.00"})
    done = await second_factor(stopped.location)
    if done.status != 200 or f"Transferred 1.00 to {to}" not in html.unescape(done.text):
        raise Failure(f"the approval answered {done.status}: {done.text[:300]!r}")


@asynccontextmanager
async def _bank(adapter: str, folder: Path, store: str | None) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    """``await run(n)``: n whole flows through the bank, each with a new session."""
    os.environ.update({
        "STEPUP_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        "STEPUP_STORE_URL": store or f"sqlite:///{folder / 'stepup.sqlite3'}",
        "STEPUP_SMS_URL": f"file://{folder / 'outbox.jsonl'}",
        "STEPUP_EMAIL_URL": f"file://{folder / 'outbox.jsonl'}",
        "DEMO_BANK_DB": str(folder / "ledger.sqlite3"),
        "BENCH_LOAD_USERS": str(USERS),
    })  # fmt: skip
    (folder / "outbox.jsonl").touch()
    from . import _servers

    outbox, users, count = Outbox(folder / "outbox.jsonl"), _servers.load_users(), [0]

    def runner(new_client: Callable[[], Request]) -> Callable[[int], Awaitable[None]]:
        async def run(n: int) -> None:
            for _ in range(n):
                count[0] += 1
                await _flow(new_client(), users[count[0] % USERS], outbox, f"f{count[0]}")

        return run

    if adapter == "flask":
        app = _servers.flask_app()
        yield runner(lambda: _flask_client(app))
        return
    import httpx

    if importlib.util.find_spec("sniffio") is None:
        # httpx's ASGI transport tries ``import sniffio`` on every request: without it
        # installed, a search of the whole path each time, which no server pays.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    app = _servers.starlette_app()
    async with app.router.lifespan_context(app):

        def new_client() -> Request:
            # the app in this thread and event loop, as a server runs it (no test portal)
            transport = httpx.ASGITransport(app=app)
            return _starlette_client(httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1"))

        yield runner(new_client)


def run_flows(adapter: str, flows: int, rounds: int, store: str | None = None) -> list[float]:
    """CPU seconds per flow in each round, after one untimed round (imports, caches).

    :param adapter: ``flask`` or ``starlette``.
    :param flows: flows per round.
    :param store: stepup's store URL (default: a new SQLite file).
    """

    async def timed() -> list[float]:
        with tempfile.TemporaryDirectory(prefix="stepup-flowcpu-") as tmp:
            async with _bank(adapter, Path(tmp), store) as run:
                await run(max(2, flows // 4))
                figures = []
                for _ in range(rounds):
                    gc.collect()
                    started = time.process_time()
                    await run(flows)
                    figures.append((time.process_time() - started) / flows)
                return figures

    return asyncio.run(timed())


def _child(src: str, adapter: str, flows: int, store: str | None) -> float:
    """One fresh process's median CPU per flow, with ``src`` first on its path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(ROOT)])}
    command = [sys.executable, "-m", "benchmarks.flowcpu", "--json", "--adapter", adapter, "--flows", str(flows),
               "--rounds", "3", *(["--store", store] if store else [])]  # fmt: skip
    out = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return float(statistics.median(json.loads(out)[adapter]))


def compare(base: str, adapters: list[str], flows: int, rounds: int, store: str | None) -> dict[str, Any]:
    """Rounds of (this, base) in alternating order, each side in a process of its own."""
    here = str(ROOT / "src")
    results: dict[str, Any] = {}
    for adapter in adapters:
        ours: list[float] = []
        theirs: list[float] = []
        for r in range(rounds):
            order = [(here, ours), (base, theirs)]
            for src, into in order if r % 2 == 0 else reversed(order):
                into.append(_child(src, adapter, flows, store))
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        results[adapter] = {"this": statistics.median(ours), "base": statistics.median(theirs),
                            "ratio": statistics.median(ratios)}  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flowcpu", description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", choices=["flask", "starlette"], action="append")
    parser.add_argument("--flows", type=int, default=40, help="flows per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", default=None, help="stepup's store URL (default: a new SQLite file)")
    parser.add_argument("--compare", metavar="SRC", default=None, help="another stepup src folder to time against")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    adapters = args.adapter or ["flask", "starlette"]
    if args.compare:
        for adapter, r in compare(args.compare, adapters, args.flows, args.rounds, args.store).items():
            print(f"{adapter}: {r['this'] * 1e3:.2f} ms a flow, base {r['base'] * 1e3:.2f} ms, ratio {r['ratio']:.3f}")
        return
    figures = {adapter: run_flows(adapter, args.flows, args.rounds, args.store) for adapter in adapters}
    if args.json:
        json.dump(figures, sys.stdout)
        return
    for adapter, values in figures.items():
        print(f"{adapter}: {statistics.median(values) * 1e3:.2f} ms CPU a flow (median of {len(values)} rounds)")


if __name__ == "__main__":
    main()
