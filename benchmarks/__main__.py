"""``python -m benchmarks``: run every benchmark and rewrite docs/BENCHMARKS.md.

``make bench`` installs what this needs and runs it. ``--quick`` runs small versions of
everything (for trying the benchmarks out; its figures are not the ones to publish) and
writes the page to ``--out`` only when one is given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import hot_path
from ._harness import machine
from ._report import Report

ROOT = Path(__file__).resolve().parent.parent


#: Rounds and requests per batch of each framework's hot path. A batch runs long enough
#: (some 20 ms) that what each batch pays once (starting the event loop's run, the caches
#: the garbage collection between batches emptied) is a small part of it: at 50 requests a
#: batch, that added a third to a bare Starlette request and blurred the ratios.
HOT_SIZES = {"Flask": (101, 100), "Starlette": (101, 400)}


def _hot_path(report: Report, quick: bool) -> None:
    for framework, setups in (("Flask", hot_path.flask_setups), ("Starlette", hot_path.starlette_setups)):
        rounds, batch = (21, 20) if quick else HOT_SIZES[framework]
        cases = setups()
        # stepup must never re-sign the cookie; the framework's own session may (older
        # Starlettes re-sign on every response), and then does so in every set-up.
        hot_path.check(cases, may_set_cookie=lambda name, c=cases: name != "alone" and _resigns(c["session"]))
        report.hot_path(framework, hot_path.measure(cases, rounds=rounds, batch=batch), rounds, batch)
        _log(f"hot path, {framework}: done")
    peer_rounds, peer_batch = (11, 10) if quick else (61, 20)
    cases = hot_path.peer_setups()
    cookies = hot_path.check(cases, may_set_cookie=lambda name: "Flask-Security" in name)
    report.peer(hot_path.measure(cases, rounds=peer_rounds, batch=peer_batch), cookies, peer_rounds, peer_batch)
    _log("peer: done")


def _resigns(session_case: Any) -> bool:
    """Whether the framework's session re-signs its cookie on every response by itself."""
    _, headers, _ = session_case.check()
    return any(k.lower() == "set-cookie" for k, _ in headers)


def _challenge_path(report: Report, quick: bool) -> None:
    import tempfile

    from . import challenge_path as cp

    levels = (1_000, 10_000) if quick else cp.LEVELS
    rounds = 5 if quick else 15
    memory = cp.run_store("memory", lambda i: "memory://", levels, rounds=rounds, batch=200)
    report.challenges("memory", *memory, rounds=rounds, batch=200)
    _log("challenge path, memory: done")
    with tempfile.TemporaryDirectory(prefix="stepup-bench-sqlite-") as folder:
        sqlite = cp.run_store("sqlite", cp.sqlite_url(Path(folder)), levels, rounds=rounds, batch=100)
        report.challenges("sqlite", *sqlite, rounds=rounds, batch=100)
        for fill in sqlite[0]:
            fill.engine.close()
    _log("challenge path, SQLite: done")
    try:
        from ._redis import RedisServer

        server = RedisServer()
    except RuntimeError as e:
        report.skipped("redis", str(e))
        return
    with server:
        import redis

        def used_memory(db: int) -> int:
            return int(redis.Redis(port=server.port, db=db).info("memory")["used_memory"])

        def key_bytes(store: Any, challenge_id: str) -> int:
            return int(store._client.memory_usage(store._name("challenge", challenge_id)) or 0)

        fills, samples = cp.run_store(
            "redis", server.url, levels, rounds=rounds, batch=50, redis_info=used_memory, key_bytes=key_bytes
        )
        report.challenges("redis", fills, samples, rounds=rounds, batch=50, version=server.version())
        for fill in fills:
            fill.engine.close()
        _floor_and_peer(report, quick, server)
    _log("challenge path, Redis: done")


def _floor_and_peer(report: Report, quick: bool, server: Any) -> None:
    """Part 3b and 3c: redis:// against its floor, and the challenge path against the peer."""
    from . import redis_floor

    floor_rounds = 5 if quick else 21
    report.redis_floor(redis_floor.run(server, rounds=floor_rounds, batch=100), rounds=floor_rounds, batch=100)
    _log("challenge path, Redis against its floor: done")
    _peer_challenge(report, quick, server.url(12))


def _floor_only(report: Report, quick: bool) -> None:
    """``--only floor``: parts 3b and 3c alone, on a Redis server of their own."""
    from ._redis import RedisServer

    with RedisServer() as server:
        _floor_and_peer(report, quick, server)


def _peer_challenge(report: Report, quick: bool, redis_url: str | None) -> None:
    import tempfile

    from . import peer_challenge

    rounds, batch = (3, 5) if quick else (11, 20)
    with tempfile.TemporaryDirectory(prefix="stepup-bench-peer-") as folder:
        samples = peer_challenge.run(Path(folder), redis_url, rounds=rounds, batch=batch)
    report.peer_challenge(samples, rounds=rounds, batch=batch)
    _log("challenge path against Flask-Security-Too: done")


def _under_load(report: Report, quick: bool) -> None:
    from . import under_load
    from ._redis import RedisServer

    seconds = 3.0 if quick else 15.0
    with RedisServer() as redis_server:
        for server in ("starlette", "flask"):
            runs = (("protected", None, True), ("flow", None, True), ("flow", redis_server.url(0), True),
                    ("flow", None, False))  # fmt: skip
            for scenario, store, browser in runs:
                if store is not None:
                    redis_server.flush()
                result = under_load.run_scenario(
                    server, scenario, seconds=seconds, clients=8, store_url=store, browser=browser
                )
                report.load(server, result)
                who = "" if browser else ", no Fetch Metadata"
                _log(f"under load, {server} {scenario} on {result['store']}{who}: done")


def _flow_cpu(quick: bool) -> None:
    """CPU per whole flow through each bank in this process (:mod:`benchmarks.flowcpu`)."""
    import statistics

    from . import flowcpu

    for adapter in ("flask", "starlette"):
        figures = flowcpu.run_flows(adapter, flows=10 if quick else 40, rounds=3 if quick else 7)
        median = statistics.median(figures) * 1e3
        print(f"{adapter}: {median:.2f} ms CPU a whole flow (median of {len(figures)} rounds)")


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs, to try the benchmarks out")
    parser.add_argument("--out", type=Path, default=None, help="where to write the page (default docs/BENCHMARKS.md)")
    parser.add_argument(
        "--only",
        choices=["hot", "challenge", "floor", "load", "flowcpu"],
        action="append",
        help="run only these parts (flowcpu: CPU per whole flow in process, printed, not on the page)",
    )
    args = parser.parse_args(argv)
    out = args.out or (None if args.quick else ROOT / "docs" / "BENCHMARKS.md")
    parts = args.only or ["hot", "challenge", "load"]
    if "flowcpu" in parts:
        _flow_cpu(args.quick)
        parts = [p for p in parts if p != "flowcpu"]
        if not parts:
            return
    started = time.monotonic()
    report = Report(machine(), command="make bench" if not args.quick else "python -m benchmarks --quick")
    if "hot" in parts:
        _hot_path(report, args.quick)
    if "challenge" in parts:
        _challenge_path(report, args.quick)
    elif "floor" in parts:
        _floor_only(report, args.quick)
    if "load" in parts:
        _under_load(report, args.quick)
    report.seconds = time.monotonic() - started
    page = report.render()
    if out is not None:
        out.write_text(page, encoding="utf-8")
        _log(f"wrote {out} in {report.seconds:.0f} s")
    else:
        print(page)


if __name__ == "__main__":
    main()
