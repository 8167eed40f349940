"""Benchmark of ``incidents serve`` on loopback: action round trip, change propagation, throughput.

Run: ``python bench/api.py [--quick]``. It starts a real server process on a free loopback
port over a fresh database in a temporary folder, drives it with ``RemoteBackend`` clients,
prints the figures and writes them to ``bench/results/api.json``.

- **act round trip**: one client adds notes to one incident, one at a time; the time from
  calling ``act`` to having the updated incident back.
- **propagation**: client A acts; client B follows ``watch()`` (SSE); the time from A
  calling ``act`` to B receiving that change (target: p95 under 100 ms on loopback).
- **throughput**: several concurrent clients, each in a bounded loop: ``list_incidents``
  (50 open incidents per call) and ``act`` (each client notes its own incident, so no
  conflicts); requests per second over the whole run.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from serving import start_server  # noqa: E402  (bench/serving.py)

from backends.remote import RemoteBackend  # noqa: E402
from backends.sqlite.store import SqliteBackend  # noqa: E402
from backends.sqlite.tokens import SqliteTokenStore  # noqa: E402
from console.domain.lifecycle import AddNote  # noqa: E402
from console.domain.models import IncidentQuery, NewIncident, Service, User  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "api.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


async def prepare(db: Path, clients: int) -> dict[str, str]:
    async with SqliteBackend(db) as store:
        tokens = SqliteTokenStore(store)
        made = {}
        for n in range(clients + 2):
            user = f"bench{n}"
            await store.put_user(User(id=user, name=f"Bench {n}"))
            _, made[user] = await tokens.create(user, "responder", "bench")
        await store.put_service(Service(id="web", name="Web shop"))
        batch = [NewIncident(title=f"incident {n}", service="web") for n in range(200)]
        await store.create_incidents(batch, "bench0")
        return made


async def round_trip(url: str, token: str, count: int) -> list[float]:
    async with RemoteBackend(url, token) as client:
        incident = await client.create_incident(NewIncident(title="rt", service="web"), "x")
        times = []
        for n in range(count):
            started = time.perf_counter()
            incident = await client.act(incident.id, AddNote(text=f"n{n}"), "x", incident.version)
            times.append(time.perf_counter() - started)
        return times


async def propagation(url: str, actor_token: str, watcher_token: str, count: int) -> list[float]:
    async with (
        RemoteBackend(url, actor_token) as actor,
        RemoteBackend(url, watcher_token) as watcher,
    ):
        incident = await actor.create_incident(NewIncident(title="prop", service="web"), "x")
        arrived: dict[int, float] = {}
        wanted = str(incident.id)
        signal = asyncio.Event()

        async def follow() -> None:
            async for change in watcher.watch(await watcher.last_seq()):
                if change.entity_id == wanted and change.version is not None:
                    arrived[change.version] = time.perf_counter()
                    signal.set()

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.3)  # the stream is open
        times = []
        try:
            for n in range(count):
                signal.clear()
                started = time.perf_counter()
                incident = await actor.act(
                    incident.id, AddNote(text=f"p{n}"), "x", incident.version
                )
                while incident.version not in arrived:
                    await asyncio.wait_for(signal.wait(), 5)
                    signal.clear()
                times.append(arrived[incident.version] - started)
        finally:
            task.cancel()
        return times


async def throughput(url: str, tokens: list[str], per_client: int, kind: str) -> dict[str, float]:
    clients = [await RemoteBackend(url, token).open() for token in tokens]
    try:
        incidents = [
            await client.create_incident(NewIncident(title=f"t{n}", service="web"), "x")
            for n, client in enumerate(clients)
        ]
        query = IncidentQuery(limit=50)

        async def run(index: int) -> None:
            client = clients[index]
            incident = incidents[index]
            for n in range(per_client):
                if kind == "list":
                    await client.list_incidents(query)
                else:
                    incident = await client.act(
                        incident.id, AddNote(text=f"t{n}"), "x", incident.version
                    )

        started = time.perf_counter()
        await asyncio.gather(*(run(i) for i in range(len(clients))))
        elapsed = time.perf_counter() - started
        total = per_client * len(clients)
        return {
            "clients": len(clients),
            "requests": total,
            "seconds": round(elapsed, 3),
            "rps": round(total / elapsed, 1),
        }
    finally:
        for client in clients:
            await client.close()


async def main(quick: bool) -> dict[str, object]:
    scale = 0.25 if quick else 1.0
    concurrency = 8
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        db = Path(folder) / "bench.db"
        tokens = await prepare(db, concurrency)
        config = Path(folder) / "config.toml"
        config.write_text("")
        proc, url = start_server(db, config)
        try:
            names = sorted(tokens)
            await round_trip(url, tokens[names[0]], 20)  # warm up
            rt = await round_trip(url, tokens[names[0]], int(400 * scale))
            prop = await propagation(url, tokens[names[0]], tokens[names[1]], int(300 * scale))
            pool = [tokens[name] for name in names[:concurrency]]
            listing = await throughput(url, pool, int(150 * scale), "list")
            acting = await throughput(url, pool, int(100 * scale), "act")
        finally:
            proc.terminate()
            proc.wait(10)
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "act_round_trip": summary(rt),
        "propagation": summary(prop),
        "list_throughput": listing,
        "act_throughput": acting,
    }


def report(results: dict[str, object]) -> None:
    rt = results["act_round_trip"]
    prop = results["propagation"]
    lst = results["list_throughput"]
    act = results["act_throughput"]
    assert isinstance(rt, dict) and isinstance(prop, dict)
    assert isinstance(lst, dict) and isinstance(act, dict)
    print(
        f"act round trip       p50 {rt['p50_ms']:7.2f} ms   p95 {rt['p95_ms']:7.2f} ms  (n={rt['n']})"
    )
    verdict = "ok" if prop["p95_ms"] < 100 else "OVER the 100 ms target"
    print(
        f"change propagation   p50 {prop['p50_ms']:7.2f} ms   p95 {prop['p95_ms']:7.2f} ms  "
        f"(n={prop['n']}, target p95 < 100 ms: {verdict})"
    )
    print(f"list  (50 rows)      {lst['rps']:8.1f} req/s with {lst['clients']} clients")
    print(f"act   (add note)     {act['rps']:8.1f} req/s with {act['clients']} clients")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the iterations")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    figures = asyncio.run(main(args.quick))
    report(figures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out}")
