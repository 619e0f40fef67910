"""docs/scaling.md's check: two app processes against a three-node Redis Cluster.

``python -m benchmarks.scaling`` starts three ``redis-server`` nodes joined into a cluster
(as tests/storage/conftest.py does), measures one process's start + verify on it alone
(its CPU per operation, and each node's commands and server time per operation from
``INFO commandstats``), predicts from those what two processes at once put on each node,
runs two processes at once, and prints the prediction beside the measurement.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _cluster(base: Path) -> tuple[list[Any], str]:
    """The tests' three-node cluster (tests/support/redis_servers.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.redis_servers import start_cluster

    nodes: list[Any] = []
    try:
        return nodes, start_cluster(base, nodes)
    except BaseException:
        for node in nodes:
            node.stop()
        raise


def _stats(ports: list[int]) -> list[dict[str, tuple[int, float]]]:
    import redis

    out = []
    for port in ports:
        client = redis.Redis(port=port)
        out.append({k.removeprefix("cmdstat_"): (int(v["calls"]), float(v["usec"])) for k, v in
                    client.info("commandstats").items()})  # fmt: skip
        client.close()
    return out


def _worker(url: str, base: int, seconds: float, go: Any, back: Any, ready: Any) -> None:
    from . import challenge_path as cp

    # Two uses a user, not four: across hash slots a start is atomic per record only, and
    # one that loses a race on the shared country and prefix limits evaluates its limits
    # again with its own hits in the records it had written (docs/scaling.md).
    cp._USES_PER_USER = 2  # noqa: SLF001
    engine, outbox = cp._engine(url)  # noqa: SLF001
    users = cp._Users(engine, base=base, count=3000)  # noqa: SLF001
    for name in users.names:  # warm-up, as in a running app
        challenge = engine.start(name, "sms", session="bench-login-nonce")
        engine.verify(challenge.id, outbox.code, subject=name, session="bench-login-nonce")
    run = cp._start_verify(cp.Fill(0, engine, outbox), users)  # noqa: SLF001
    ready.put(1)
    go.get()  # start together
    done, cpu, started = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            run(20)
        except Exception as e:
            print("refused:", type(e).__name__, getattr(e, "limit", ""), e, flush=True)
            raise
        done += 20
    back.put((done, time.process_time() - cpu, time.perf_counter() - started))
    engine.close()


def _run(url: str, ports: list[int], processes: int, seconds: float, base: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    go, back, ready = ctx.Queue(), ctx.Queue(), ctx.Queue()
    args = [(url, base + i * 10_000, seconds, go, back, ready) for i in range(processes)]
    workers = [ctx.Process(target=_worker, args=a) for a in args]
    for w in workers:
        w.start()
    for _ in workers:  # each warms up its users first
        ready.get()
    before = _stats(ports)
    for _ in workers:
        go.put(1)
    results = [back.get() for _ in workers]
    for w in workers:
        w.join()
    after = _stats(ports)
    ops = sum(r[0] for r in results)
    nodes = []
    for b, a in zip(before, after, strict=True):
        calls = {k: a[k][0] - b.get(k, (0, 0.0))[0] for k in a}
        usec = sum(a[k][1] - b.get(k, (0, 0.0))[1] for k in a)
        nodes.append({"calls_per_op": sum(calls.values()) / ops, "usec_per_op": usec / ops, "calls": calls})
    return {"ops": ops, "results": results, "nodes": nodes}


def main() -> None:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="stepup-scaling-") as folder:
        nodes, url = _cluster(Path(folder))
        ports = [n.port for n in nodes]
        try:
            one = _run(url, ports, 1, 6.0, 100_000)
            two = _run(url, ports, 2, 6.0, 300_000)
        finally:
            for node in nodes:
                node.stop()
    for label, r in (("one process", one), ("two processes", two)):
        rates = [done / wall for done, _, wall in r["results"]]
        cpus = [cpu / done * 1e6 for done, cpu, _ in r["results"]]
        print(f"{label}: {r['ops']} start + verify; per process {', '.join(f'{x:,.0f}/s' for x in rates)}; "
              f"app CPU per op {', '.join(f'{x:,.0f} µs' for x in cpus)}")  # fmt: skip
        ops = r["ops"]
        for i, node in enumerate(r["nodes"]):
            top = sorted(node["calls"].items(), key=lambda kv: -kv[1])[:4]
            print(f"  node {i}: {node['calls_per_op']:.2f} commands and {node['usec_per_op']:.1f} µs of server "
                  f"time per op ({', '.join(f'{k} {v / ops:.2f}' for k, v in top)})")  # fmt: skip


if __name__ == "__main__":
    main()
