"""4. Under load: each example bank in a production server, driven from a second process.

The Starlette bank runs under uvicorn (one worker, on uvloop and httptools: uvicorn's
production extras, named so that a machine without them fails rather than measures another
server), the Flask bank under gunicorn (two workers of four threads: the machine's two
cores), both on 127.0.0.1 with the examples' default store, SQLite (and the whole flow
again on redis://), and a file outbox. Eight
clients: as many as the Flask server handles at once; more only queue (and gunicorn
spreads kept-alive connections unevenly over its workers). :mod:`benchmarks._loadgen`
drives them for a bounded time, then the ledger is read back: every transfer a client saw
executed must be in it exactly once, and nothing else.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["SERVERS", "run_scenario", "tree_cpu"]

ROOT = Path(__file__).resolve().parent.parent
#: server name -> (what serves it, the command after the interpreter).
SERVERS = {
    "starlette": ("uvicorn (uvloop, httptools), 1 worker",
                  ["-m", "uvicorn", "--factory", "benchmarks._servers:starlette_app", "--loop", "uvloop",
                   "--http", "httptools", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
                   "--no-access-log"]),
    "flask": ("gunicorn, 2 workers × 4 threads", ["-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
                                                 "--threads", "4", "--keep-alive", "5", "--bind", "127.0.0.1:{port}",
                                                 "--log-level", "warning", "benchmarks._servers:flask_app()"]),
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) of process ``pid`` and its descendants, alive now
    (``/proc``): a server's master and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = collections.defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        children[int(fields[1])].append(int(entry))
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu.get(current, 0.0)
        todo += children.get(current, [])
    return total


def _ledger(path: Path) -> collections.Counter[str]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT user, to_ FROM transfers").fetchall()
    return collections.Counter(f"{user} {to}" for user, to in rows)


def run_scenario(
    server: str, scenario: str, *, seconds: float, clients: int, store_url: str | None = None, browser: bool = True
) -> dict[str, Any]:
    """Serve one bank, drive one scenario, check the ledger.

    :param store_url: stepup's store (default: a new SQLite file, the examples' default).
    :param browser: the clients send a browser's Fetch Metadata (``False``: none).

    :returns: the driver's figures, plus ``lost``, ``doubled`` and ``unexpected``
        transfers for the flow.
    """
    with tempfile.TemporaryDirectory(prefix="stepup-bench-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "STEPUP_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
            "STEPUP_STORE_URL": store_url or f"sqlite:///{folder / 'stepup.sqlite3'}",
            "STEPUP_SMS_URL": f"file://{folder / 'outbox.jsonl'}",
            "STEPUP_EMAIL_URL": f"file://{folder / 'outbox.jsonl'}",
            "DEMO_BANK_DB": str(folder / "ledger.sqlite3"),
            "BENCH_LOAD_USERS": str(clients),
        }
        (folder / "outbox.jsonl").touch()
        # Bind the users once before the workers start, so that they do not race to.
        subprocess.run(
            [sys.executable, "-c", f"from benchmarks._servers import {server}_app; {server}_app()"],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        port = _free_port()
        command = [sys.executable, *(a.replace("{port}", str(port)) for a in SERVERS[server][1])]
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for(port, process)
            time.sleep(0.5)  # every worker up
            server_started = tree_cpu(process.pid)
            driver = subprocess.run(
                [sys.executable, "-m", "benchmarks._loadgen", scenario, "--port", str(port), "--clients", str(clients),
                 "--seconds", str(seconds), "--outbox", str(folder / "outbox.jsonl"),
                 *([] if browser else ["--no-fetch-metadata"])],
                env=env, cwd=ROOT, capture_output=True, timeout=seconds + 120,
            )  # fmt: skip
            if driver.returncode != 0:
                raise RuntimeError(f"the load driver failed:\n{driver.stderr.decode(errors='replace')[-3000:]}")
            server_cpu = tree_cpu(process.pid) - server_started
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                _, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate()
        result: dict[str, Any] = json.loads(driver.stdout)
        result["server_cpu"] = server_cpu  # from the first request to the last, and a little idle
        result["server"] = SERVERS[server][0]
        result["browser"] = browser
        result["store"] = "redis://" if store_url and store_url.startswith("redis") else "sqlite:///"
        result["server_errors"] = [
            line for line in err.decode(errors="replace").splitlines() if "Traceback" in line or "ERROR" in line
        ][:5]
        if scenario == "flow":
            seen = collections.Counter(result.pop("transfers"))
            ledger = _ledger(folder / "ledger.sqlite3")
            result["lost"] = sum((seen - ledger).values())
            result["doubled"] = sum(n - 1 for key, n in ledger.items() if n > 1)
            result["unexpected"] = sum(n for key, n in ledger.items() if key not in seen)
            result["ledger"] = sum(ledger.values())
        else:
            result.pop("transfers")
        return result
