"""Alert intake throughput through a real ``incidents serve`` process.

Starts the server on a free loopback port with a fresh database, one service and one
Alertmanager integration, then measures for each webhook size (1 and 100 alerts):

- sustained alerts per second: ``--senders`` concurrent clients post Alertmanager webhooks
  (every webhook a new group of new alerts, so each one opens an incident: the heaviest
  case) for ``--seconds``;
- in the same run, concurrently, one client hitting ``/healthz`` back to back: its request
  rate under load, compared with its rate on the idle server measured right before
  (``healthz_ratio`` = under load / idle; 1.0 means intake costs the server nothing).

Prints a table and writes ``bench/results/ingest.json``.

    python bench/ingest.py [--seconds 8] [--senders 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backends.sqlite import intake as sqlite_intake  # noqa: E402
from backends.sqlite.store import SqliteBackend  # noqa: E402
from console.domain.models import Service  # noqa: E402


def webhook(size: int, batch: int, sender: int) -> bytes:
    group = f'{{}}:{{alertname="Bench", batch="{sender}-{batch}"}}'
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "Bench",
                "severity": "warning",
                "instance": f"host-{n}",
                "batch": f"{sender}-{batch}",
            },
            "annotations": {"summary": f"bench alert {n} of batch {sender}-{batch}"},
            "startsAt": "2026-11-27T06:55:50.145014539Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": f"{sender:02x}{batch:08x}{n:04x}",
        }
        for n in range(size)
    ]
    body = {
        "receiver": "incidents",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"alertname": "Bench"},
        "commonLabels": {"alertname": "Bench", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


async def healthz(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        response.raise_for_status()
        latencies.append(time.perf_counter() - started)
    return latencies


async def sender(
    client: httpx.AsyncClient, key: str, size: int, index: int, stop: asyncio.Event
) -> tuple[int, list[float]]:
    sent = 0
    latencies = []
    batch = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    while not stop.is_set():
        body = webhook(size, batch, index)
        batch += 1
        started = time.perf_counter()
        response = await client.post("/v1/integrations/alertmanager", content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:300]}")
        latencies.append(time.perf_counter() - started)
        sent += size
    return sent, latencies


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, key: str, size: int, seconds: float, senders: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=senders + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        stop = asyncio.Event()
        probe = asyncio.create_task(healthz(client, stop))
        tasks = [asyncio.create_task(sender(client, key, size, i, stop)) for i in range(senders)]
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        stop.set()
        results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        probes = await probe
    alerts = sum(sent for sent, _ in results)
    webhook_latencies = [x for _, lat in results for x in lat]
    return {
        "webhook_size": size,
        "seconds": round(elapsed, 2),
        "senders": senders,
        "webhooks": len(webhook_latencies),
        "alerts": alerts,
        "alerts_per_second": round(alerts / elapsed, 1),
        "webhook_p50_ms": round(pct(webhook_latencies, 0.5) * 1000, 1),
        "webhook_p99_ms": round(pct(webhook_latencies, 0.99) * 1000, 1),
        "healthz_per_second": round(len(probes) / elapsed, 1),
        "healthz_p50_ms": round(pct(probes, 0.5) * 1000, 2),
        "healthz_p99_ms": round(pct(probes, 0.99) * 1000, 2),
    }


async def idle_healthz(url: str, seconds: float) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        stop = asyncio.Event()
        probe = asyncio.create_task(healthz(client, stop))
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        stop.set()
        probes = await probe
        elapsed = time.perf_counter() - started
    return {
        "healthz_per_second": round(len(probes) / elapsed, 1),
        "healthz_p50_ms": round(statistics.median(probes) * 1000, 2),
    }


async def prepare(db: Path) -> str:
    async with SqliteBackend(db) as store:
        await store.put_service(Service(id="bench", name="Bench"))
        _, key = await sqlite_intake.create_integration(store, "bench", "alertmanager")
    return key


def start_server(db: Path, log: Path, config: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "INCIDENTS_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "serve", "--db", str(db), "--port", "0"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"listening on (http://\S+)", log.read_text())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"incidents serve did not start:\n{log.read_text()[-2000:]}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        db = Path(tmp) / "bench.db"
        config = Path(tmp) / "config.toml"
        config.write_text("")
        key = await prepare(db)
        process, url = start_server(db, Path(tmp) / "serve.log", config)
        try:
            runs = []
            for size in (1, 100):
                # The idle rate right before each loaded run, so a machine whose load drifts
                # (other processes) skews the ratio as little as possible.
                idle = await idle_healthz(url, min(3.0, args.seconds))
                result = await measure(url, key, size, args.seconds, args.senders)
                result["idle_healthz_per_second"] = idle["healthz_per_second"]
                result["healthz_ratio"] = round(
                    result["healthz_per_second"] / idle["healthz_per_second"], 3
                )
                runs.append(result)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return {
        "benchmark": "alert intake through incidents serve (Alertmanager webhooks)",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "load_average": os.getloadavg(),
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run")
    parser.add_argument("--senders", type=int, default=4, help="concurrent webhook senders")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print("size  alerts/s  webhooks  p50 ms  p99 ms  idle healthz/s  healthz/s  p99 ms  ratio")
    for r in report["runs"]:
        print(
            f"{r['webhook_size']:>4}  {r['alerts_per_second']:>8}  {r['webhooks']:>8}  "
            f"{r['webhook_p50_ms']:>6}  {r['webhook_p99_ms']:>6}  "
            f"{r['idle_healthz_per_second']:>14}  {r['healthz_per_second']:>9}  "
            f"{r['healthz_p99_ms']:>6}  {r['healthz_ratio']:>5}"
        )
    print(f"load average during the run: {report['load_average']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
