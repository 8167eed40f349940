"""Benchmark of the PostgreSQL team store (issue 12), on a throw-away local cluster.

- the queue query (open, most urgent first, first 500, parsed) on N incidents of which
  10,000 are open, on PostgreSQL beside SQLite in the same run (the same generated records);
- alert intake: alerts/s through 1, 2 and 3 ``incidents serve`` replicas on one database;
- cross-replica propagation: a change made through replica A, seen on a stream from B
  (p50/p95);
- failover: kill -9 the leader; seconds until another replica says it leads.

    python bench/postgres.py                    # 1,000,000 incidents (slow to build)
    python bench/postgres.py --incidents 200000 # a quicker run

Prints the figures and writes them as JSON to ``bench/results/postgres.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import seed  # noqa: E402  (bench/seed.py: the same rows, fast, into both stores)
import store as sqlite_bench  # noqa: E402  (bench/store.py: records and the queue probe)

from backends.postgres.store import PostgresBackend  # noqa: E402
from backends.sqlite.store import SqliteBackend  # noqa: E402
from console.domain.models import IncidentQuery, Service  # noqa: E402
from tests.postgres import Cluster, bin_dir  # noqa: E402
from tests.remote.server import ServerProcess  # noqa: E402


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered) * 1000, 2),
        "p95": round(p95 * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "n": len(ordered),
    }


async def bench_queue(dsn: str, tmp: Path, count: int, open_count: int, runs: int) -> dict:
    """Seed the same rows into SQLite and PostgreSQL (``bench/seed.py``: executemany and
    COPY), then time the queue query on both, alternating one run on each so both see the
    same load on this shared machine."""
    now = datetime.now(UTC)
    out: dict[str, Any] = {"incidents": count, "open": open_count, "runs": runs}
    sqlite = SqliteBackend(tmp / "queue.db")
    postgres = PostgresBackend(dsn)
    async with sqlite, postgres:
        started = time.perf_counter()
        await seed.seed_sqlite(sqlite, count, open_count, now)
        out["sqlite_build_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        await seed.seed_postgres(postgres, count, open_count, now)
        out["postgres_build_s"] = round(time.perf_counter() - started, 1)
        print(f"seeded in {out['sqlite_build_s']} s (SQLite), {out['postgres_build_s']} s (PG)")
        query = IncidentQuery(limit=500)
        stores: dict[str, SqliteBackend | PostgresBackend] = {
            "sqlite": sqlite,
            "postgres": postgres,
        }
        for store in stores.values():
            for _ in range(3):  # warm caches and prepared statements
                assert len(await store.list_incidents(query)) == query.limit
        samples: dict[str, list[float]] = {name: [] for name in stores}
        for n in range(runs):
            order = list(stores.items()) if n % 2 == 0 else list(reversed(stores.items()))
            for name, store in order:
                t0 = time.perf_counter()
                found = await store.list_incidents(query)
                samples[name].append(time.perf_counter() - t0)
                assert len(found) == query.limit
        for name, values in samples.items():
            out[name] = {**sqlite_bench._ms(values), "rows": query.limit}
            print(
                f"queue query on {name}: median {out[name]['median']} ms,"
                f" p95 {out[name]['p95']} ms ({count:,} incidents, {open_count:,} open)"
            )
        out["postgres_over_sqlite"] = round(out["postgres"]["median"] / out["sqlite"]["median"], 2)
        print(f"PostgreSQL / SQLite median: {out['postgres_over_sqlite']}")
    return out


async def _seed_server_db(dsn: str) -> tuple[str, str]:
    async with PostgresBackend(dsn) as store:
        await store.put_service(Service(id="checkout", name="Checkout"))
        tokens = store.capabilities.tokens
        assert tokens is not None
        _, token = await tokens.create("bench", "responder")
        _, key = await store.create_integration("checkout", "alertmanager")
    return token, key


def _webhook(batch: int, n: int, size: int) -> dict[str, Any]:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"A{n}", "instance": f"i{k}"},
            "annotations": {"summary": "bench"},
            "startsAt": "2026-12-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"b{batch}-{n}-{k}",
        }
        for k in range(size)
    ]
    return {
        "version": "4",
        "status": "firing",
        "receiver": "bench",
        "groupKey": f'{{}}:{{alertname="A{n}"}}',
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "truncatedAlerts": 0,
    }


async def bench_intake(cluster: Cluster, tmp: Path, replicas: int, posts: int, size: int) -> dict:
    dsn = await cluster.create_database()
    _, key = await _seed_server_db(dsn)
    servers = [ServerProcess(dsn, home=tmp / f"i{replicas}-{n}").start() for n in range(replicas)]
    try:
        urls = await asyncio.gather(*(s.ready() for s in servers))
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(timeout=60) as client:
            sem = asyncio.Semaphore(8 * replicas)

            async def post(n: int) -> None:
                async with sem:
                    url = urls[n % replicas]
                    body = _webhook(replicas, n, size)
                    response = await client.post(
                        f"{url}/v1/integrations/alertmanager", json=body, headers=headers
                    )
                    response.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(post(n) for n in range(posts)))
            took = time.perf_counter() - started
        rate = posts * size / took
        print(f"intake with {replicas} replica(s): {rate:,.0f} alerts/s ({posts} posts of {size})")
        return {"replicas": replicas, "alerts_per_s": round(rate), "posts": posts, "size": size}
    finally:
        for server in servers:
            server.stop()


async def bench_propagation(cluster: Cluster, tmp: Path, changes: int) -> dict:
    dsn = await cluster.create_database()
    token, _ = await _seed_server_db(dsn)
    servers = [ServerProcess(dsn, home=tmp / f"p{n}").start() for n in range(2)]
    try:
        url_a, url_b = await asyncio.gather(*(s.ready() for s in servers))
        headers = {"Authorization": f"Bearer {token}"}
        samples: list[float] = []
        async with httpx.AsyncClient(timeout=30) as client:
            async with client.stream("GET", f"{url_b}/v1/stream", headers=headers) as stream:
                lines = stream.aiter_lines()
                async for line in lines:
                    if line.startswith(": connected"):
                        break
                for n in range(changes):
                    started = time.perf_counter()
                    response = await client.post(
                        f"{url_a}/v1/incidents",
                        json={"title": f"p{n}", "service": "checkout"},
                        headers=headers,
                    )
                    response.raise_for_status()
                    async for line in lines:
                        if line.startswith("data: ") and '"incident.created"' in line:
                            break
                    samples.append(time.perf_counter() - started)
        result = _ms(samples)
        print(f"A -> stream on B: p50 {result['p50']} ms, p95 {result['p95']} ms")
        return result
    finally:
        for server in servers:
            server.stop()


async def bench_failover(cluster: Cluster, tmp: Path) -> dict:
    dsn = await cluster.create_database()
    await _seed_server_db(dsn)
    servers = [ServerProcess(dsn, home=tmp / f"f{n}").start() for n in range(2)]
    try:
        await asyncio.gather(*(s.ready() for s in servers))

        def leading(server: ServerProcess) -> bool:
            return any("leading" in line for line in server.output)

        async with asyncio.timeout(30):
            while not any(leading(s) for s in servers):
                await asyncio.sleep(0.01)
        leader = next(s for s in servers if leading(s))
        other = next(s for s in servers if s is not leader)
        started = time.perf_counter()
        assert leader.proc is not None
        leader.proc.send_signal(signal.SIGKILL)
        async with asyncio.timeout(30):
            while not leading(other):
                await asyncio.sleep(0.005)
        took = time.perf_counter() - started
        print(f"failover: the other replica leads {took:.2f} s after kill -9 of the leader")
        return {"seconds": round(took, 3)}
    finally:
        for server in servers:
            server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--posts", type=int, default=200, help="webhooks per intake run")
    parser.add_argument("--size", type=int, default=20, help="alerts per webhook")
    parser.add_argument("--changes", type=int, default=100, help="changes timed across replicas")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "postgres.json")
    parser.add_argument(
        "--only",
        choices=("queue", "intake", "propagation", "failover"),
        action="append",
        help="run only these parts (repeatable); the other figures in --out are kept",
    )
    args = parser.parse_args()
    parts = set(args.only or ("queue", "intake", "propagation", "failover"))
    bindir = bin_dir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    cluster = Cluster(bindir)
    cluster.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            results: dict[str, Any] = (
                json.loads(args.out.read_text()) if args.out.exists() and args.only else {}
            )
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            results["at"] = stamp
            if "queue" in parts:
                results["queue"] = await bench_queue(
                    await cluster.create_database(), tmp, args.incidents, args.open, args.runs
                )
                results["queue"]["at"] = stamp
            if "intake" in parts:
                results["intake"] = [
                    await bench_intake(cluster, tmp, n, args.posts, args.size) for n in (1, 2, 3)
                ]
            if "propagation" in parts:
                results["propagation_ms"] = await bench_propagation(cluster, tmp, args.changes)
            if "failover" in parts:
                results["failover"] = await bench_failover(cluster, tmp)
    finally:
        cluster.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
