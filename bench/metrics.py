"""Benchmark of ``/metrics`` on ``incidents serve``: scrape time, and ``/healthz`` under a
scrape flood, at 20,000 and 100,000 open incidents.

Run: ``python bench/metrics.py [--sizes 20000,100000] [--scrapes 100] [--flood 4]``. For each
size it seeds a fresh SQLite file (``bench/seed.py``: every incident open), starts a real
server process on a free loopback port and measures, all on loopback:

- **scrape**: ``GET /metrics`` one at a time (the first one, which waits for the first
  snapshot, is reported on its own);
- **healthz alone**: ``GET /healthz`` one at a time, nothing else running;
- **healthz under flood**: the same while ``--flood`` clients scrape ``/metrics`` in a loop
  (bounded by ``--seconds``);
- the escalator runs once an hour (``--escalator-interval``), out of the way;
- **load-all**: for comparison, what a scrape cost before (every open incident listed and
  checked with ``console.domain.sla.is_breached``), timed once in this process on the same
  file.

It prints the figures and writes them to ``bench/results/metrics.json``. The machine is
shared: run it twice and compare medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import seed  # noqa: E402  (bench/seed.py)
from serving import start_server  # noqa: E402  (bench/serving.py)

from backends.sqlite.store import SqliteBackend  # noqa: E402
from console.domain.models import IncidentQuery  # noqa: E402
from console.domain.sla import is_breached  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "metrics.json"


def ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(v * 1000 for v in values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(pid: int, quiet: float = 0.1, limit: float = 180.0) -> None:
    """Wait until the server uses under ``quiet`` of a core (its escalator's first pass
    over every open incident is done), at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu = cpu_seconds(pid)
        await asyncio.sleep(1)
        if cpu_seconds(pid) - cpu < quiet:
            return
    print(f"  (the server did not settle within {limit:g} s)", flush=True)


async def timed(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    return times


async def flood(url: str, until: float) -> int:
    done = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            (await client.get("/metrics")).raise_for_status()
            done += 1
    return done


async def load_all(db: Path) -> float:
    """The scrape before: every open incident listed (pages of 2,000) and checked."""
    async with SqliteBackend(db) as store:
        started = time.perf_counter()
        now = datetime.now(UTC)
        offset = breached = 0
        while True:
            page = await store.list_incidents(IncidentQuery(sort="age", limit=2000, offset=offset))
            breached += sum(is_breached(i, now, store.settings.sla) for i in page)
            if len(page) < 2000:
                break
            offset += 2000
        return time.perf_counter() - started


async def one_size(size: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    db = folder / f"metrics-{size}.db"
    async with SqliteBackend(db) as store:
        # Created in the four days after now: time alone breaches none of them yet, so the
        # server's escalator has no breach to write for 100,000 incidents while we measure.
        # (The gauges' one query costs the same whatever number are breached.)
        await seed.seed_sqlite(store, size, size, datetime.now(UTC) + timedelta(days=4))
    # The escalator's pass over every open incident (every 5 s by default) is a cost of
    # its own at these sizes: pushed out of the measured minutes, so the figures are the
    # scrapes' and /healthz's alone.
    config = folder / "incident-console" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[server]\nescalator_interval = {args.escalator_interval}\n")
    proc, url = start_server(db, config)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            first = await timed(client, "/metrics", 1)
            await settle(proc.pid)
            # What the server burns doing nothing (the change hub's polls, ...), taken out
            # of the CPU per request below.
            cpu, wall = cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(5)
            idle = (cpu_seconds(proc.pid) - cpu) / (time.monotonic() - wall)
            cpu, wall = cpu_seconds(proc.pid), time.monotonic()
            scrape = await timed(client, "/metrics", args.scrapes)
            spent = cpu_seconds(proc.pid) - cpu - idle * (time.monotonic() - wall)
            scrape_cpu = spent / args.scrapes
            cpu, wall = cpu_seconds(proc.pid), time.monotonic()
            alone = await timed(client, "/healthz", args.healthz)
            spent = cpu_seconds(proc.pid) - cpu - idle * (time.monotonic() - wall)
            healthz_cpu = spent / args.healthz
            until = time.monotonic() + args.seconds
            flooding = [asyncio.create_task(flood(url, until)) for _ in range(args.flood)]
            under = await timed(client, "/healthz", args.healthz)
            scrapes_done = sum(await asyncio.gather(*flooding))
            text = (await client.get("/metrics")).text
    finally:
        proc.terminate()
        proc.wait(10)

    def sample(name: str) -> float:
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    snapshots = int(sample("incidents_metrics_snapshots_total "))
    duration = "incidents_http_request_duration_seconds"
    server_side = {
        path: round(
            sample(f'{duration}_sum{{method="GET",route="{path}",status="200"}}')
            / sample(f'{duration}_count{{method="GET",route="{path}",status="200"}}')
            * 1000,
            3,
        )
        for path in ("/metrics", "/healthz")
    }
    before = await load_all(db) if not args.skip_load_all else None
    return {
        "open": size,
        "first_scrape_ms": round(first[0] * 1000, 2),
        "scrape": ms(scrape),
        "healthz_alone": ms(alone),
        "healthz_under_flood": ms(under),
        "flood_clients": args.flood,
        "flood_scrapes": scrapes_done,
        "snapshots_taken": snapshots,
        "last_snapshot_query_ms": round(sample("incidents_metrics_snapshot_seconds ") * 1000, 1),
        "server_mean_ms": server_side,
        "server_idle_cpu_ms_per_s": round(idle * 1000, 1),
        "server_cpu_ms_per_request": {
            "/metrics": round(scrape_cpu * 1000, 3),
            "/healthz": round(healthz_cpu * 1000, 3),
        },
        "load_all_ms": None if before is None else round(before * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--scrapes", type=int, default=100)
    parser.add_argument("--healthz", type=int, default=300)
    parser.add_argument("--flood", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--skip-load-all", action="store_true")
    parser.add_argument("--escalator-interval", type=float, default=3600.0)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="incidents-metrics-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            result = await one_size(size, args, Path(tmp))
            results.append(result)
            print(
                f"{size:>7,} open: scrape p50 {result['scrape']['p50_ms']} ms, "
                f"p99 {result['scrape']['p99_ms']} ms (first {result['first_scrape_ms']} ms); "
                f"/healthz p50/p99 {result['healthz_alone']['p50_ms']}/"
                f"{result['healthz_alone']['p99_ms']} ms alone, "
                f"{result['healthz_under_flood']['p50_ms']}/"
                f"{result['healthz_under_flood']['p99_ms']} ms under {args.flood} scrapers "
                f"({result['flood_scrapes']} scrapes, {result['snapshots_taken']} snapshots); "
                f"server CPU per request (idle {result['server_idle_cpu_ms_per_s']} ms/s "
                f"taken out): /metrics "
                f"{result['server_cpu_ms_per_request']['/metrics']} ms, /healthz "
                f"{result['server_cpu_ms_per_request']['/healthz']} ms; snapshot query "
                f"{result['last_snapshot_query_ms']} ms; "
                f"load-all (the scrape before) {result['load_all_ms']} ms",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "/metrics scrape cost and /healthz under a scrape flood",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
