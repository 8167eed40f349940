"""Alert intake throughput of a real ``incidents serve`` process, measured at the server.

The load generator must not be the limit, or the figures describe the client: it keeps
``--connections`` raw HTTP/1.1 keep-alive sockets (asyncio streams, a request written as
prepared bytes, the answer read by ``Content-Length``), so one ``/healthz`` costs the client
a few tens of microseconds and ``/healthz`` alone drives the server's CPU to saturation.

The server gets a fresh database with one service and one Alertmanager integration. Each
round measures, back to back on the same server process:

- ``/healthz`` requests per second (the HTTP layer's ceiling on this machine, now);
- Alertmanager webhooks of 1, 10 and 100 alerts, each a new group of new alerts, so every
  webhook opens an incident (the heaviest case).

``/healthz`` and the 1-alert webhooks, the ratio's two phases, alternate in ``--slices``
slices (1 s each by default): on a shared host the machine's speed drifts over seconds
(steal time swung between 0 and 28 % of the CPU from one minute to the next), and a ratio
of two phases 5 s apart measured that drift as much as the server. For every phase:
requests and alerts per second, latency percentiles, and the server's CPU
per request from ``/proc/PID/stat`` (its utime + stime over the phase, all its threads).
``ratio_1`` is the 1-alert webhook rate over the ``/healthz`` rate of the same round; the
medians over ``--rounds`` rounds are reported. Prints a table and writes
``bench/results/ingest.json``.

    python bench/ingest.py [--seconds 5] [--rounds 3] [--slices 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # last: bench/console_scale.py keeps it off the front

from serving import start_server  # noqa: E402  (bench/serving.py)

from backends.sqlite import intake as sqlite_intake  # noqa: E402
from backends.sqlite.store import SqliteBackend  # noqa: E402
from console.domain.models import Service  # noqa: E402

SIZES = (1, 10, 100)
TICKS = os.sysconf("SC_CLK_TCK")


def webhook(size: int, batch: str) -> bytes:
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "Bench",
                "severity": "warning",
                "instance": f"host-{n}",
                "batch": batch,
            },
            "annotations": {"summary": f"bench alert {n} of batch {batch}"},
            "startsAt": "2026-11-27T06:55:50.145014539Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph",
            "fingerprint": f"{batch}-{n:04x}",
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
        "groupKey": f'{{}}:{{alertname="Bench", batch="{batch}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


def request(method: str, path: str, host: str, body: bytes = b"", key: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> tuple[int, bytes]:
    """One request on a keep-alive connection: its status and body."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    if match is None:
        raise RuntimeError(f"answer without Content-Length: {head[:200]!r}")
    body = await reader.readexactly(int(match.group(1)))
    return status, body


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    alerts: int = 0


async def worker(
    host: str,
    port: int,
    make: Any,
    phase: Phase,
    size: int,
    stop: asyncio.Event,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not stop.is_set():
            data = make()
            started = time.perf_counter()
            status, body = await exchange(reader, writer, data)
            if status >= 300:
                raise RuntimeError(f"the server answered {status}: {body[:300]!r}")
            phase.latencies.append(time.perf_counter() - started)
            phase.alerts += size
    finally:
        writer.close()
        await writer.wait_closed()


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Sample:
    """One stretch of load: what the client saw, and the server's and client's CPU."""

    record: Phase
    elapsed: float
    cpu: float
    own: float


async def measure(
    host: str, port: int, pid: int, make: Any, size: int, args: argparse.Namespace
) -> Sample:
    """``args.connections`` workers sending ``make()`` for ``args.seconds``."""
    record = Phase()
    stop = asyncio.Event()
    cpu0, wall0, own0 = cpu_seconds(pid), time.perf_counter(), time.process_time()
    tasks = [
        asyncio.create_task(worker(host, port, make, record, size, stop))
        for _ in range(args.connections)
    ]
    await asyncio.sleep(args.seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return Sample(
        record,
        time.perf_counter() - wall0,
        cpu_seconds(pid) - cpu0,
        time.process_time() - own0,
    )


def describe(name: str, size: int, samples: Sequence[Sample]) -> dict[str, Any]:
    """The figures of one phase, made of one or more samples."""
    latencies = [value for sample in samples for value in sample.record.latencies]
    alerts = sum(sample.record.alerts for sample in samples)
    elapsed = sum(sample.elapsed for sample in samples)
    cpu = sum(sample.cpu for sample in samples)
    own = sum(sample.own for sample in samples)
    count = len(latencies)
    return {
        "phase": name,
        "alerts_per_request": size,
        "seconds": round(elapsed, 2),
        "slices": len(samples),
        "requests": count,
        "requests_per_second": round(count / elapsed, 1),
        "alerts_per_second": round(alerts / elapsed, 1),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
        "p99_ms": round(pct(latencies, 0.99) * 1000, 2),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "server_cpu_ms_per_request": round(1000 * cpu / max(count, 1), 3),
        "client_cpu_percent": round(100 * own / elapsed, 1),
    }


async def phase(
    host: str, port: int, pid: int, name: str, make: Any, size: int, args: argparse.Namespace
) -> dict[str, Any]:
    return describe(name, size, [await measure(host, port, pid, make, size, args)])


async def prepare(db: Path) -> str:
    async with SqliteBackend(db) as store:
        await store.put_service(Service(id="bench", name="Bench"))
        _, key = await sqlite_intake.create_integration(store, "bench", "alertmanager")
    return key


async def rounds(url: str, pid: int, key: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    host, port_text = url.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    authority = f"{host}:{port}"
    healthz = request("GET", "/healthz", authority)
    counter = iter(range(10**9))

    def make_webhook(size: int) -> Any:
        def make() -> bytes:
            batch = f"r{os.getpid()}-{size}-{next(counter)}"
            return request(
                "POST", "/v1/integrations/alertmanager", authority, webhook(size, batch), key
            )

        return make

    # Warm up: imports, first statements, the page cache.
    await phase(host, port, pid, "warmup", lambda: healthz, 0, _short(args))
    await phase(host, port, pid, "warmup", make_webhook(1), 1, _short(args))
    results = []
    # The ratio's two phases in alternating slices: the machine's speed drifts over seconds
    # (a shared host), and both phases should see the same drift.
    part = argparse.Namespace(**{**vars(args), "seconds": args.seconds / args.slices})
    for number in range(1, args.rounds + 1):
        beside: tuple[list[Sample], list[Sample]] = ([], [])
        for _ in range(args.slices):
            beside[0].append(await measure(host, port, pid, lambda: healthz, 0, part))
            beside[1].append(await measure(host, port, pid, make_webhook(1), 1, part))
        phases = [describe("healthz", 0, beside[0]), describe("webhook_1", 1, beside[1])]
        for size in SIZES[1:]:
            phases.append(
                await phase(host, port, pid, f"webhook_{size}", make_webhook(size), size, args)
            )
        by_name = {p["phase"]: p for p in phases}
        ratio = (
            by_name["webhook_1"]["requests_per_second"] / by_name["healthz"]["requests_per_second"]
        )
        results.append({"round": number, "ratio_1": round(ratio, 3), "phases": phases})
        print(f"round {number}: ratio_1 {ratio:.3f}", flush=True)
    return results


def _short(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "seconds": min(1.0, args.seconds)})


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    names = [p["phase"] for p in results[0]["phases"]]
    summary: dict[str, Any] = {"ratio_1": statistics.median(r["ratio_1"] for r in results)}
    for name in names:
        rows = [next(p for p in r["phases"] if p["phase"] == name) for r in results]
        summary[name] = {
            key: round(statistics.median(row[key] for row in rows), 3)
            for key in rows[0]
            if isinstance(rows[0][key], int | float)
        }
    return summary


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    secret: str
    """What ``prepare`` returned: the integration key or the API token."""
    folder: Path


@contextlib.asynccontextmanager
async def served(
    prepare: Callable[[Path], Awaitable[str]], folder: str | None = None
) -> AsyncIterator[Served]:
    """A real ``incidents serve`` on a fresh database that ``prepare`` filled, stopped after."""
    with tempfile.TemporaryDirectory(prefix="bench-", dir=folder) as tmp:
        db = Path(tmp) / "bench.db"
        config = Path(tmp) / "config.toml"
        config.write_text("")
        secret = await prepare(db)
        process, url = start_server(db, config)
        try:
            yield Served(process, url, secret, Path(tmp))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with served(prepare, args.dir) as server:
        results = await rounds(server.url, server.process.pid, server.secret, args)
    return {
        "benchmark": "alert intake through incidents serve, measured at the server",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "connections": args.connections,
        "seconds_per_phase": args.seconds,
        "load_average": os.getloadavg(),
        "median": summarise(results),
        "rounds": results,
    }


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write a bench's JSON report (the figures it printed) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are reported)")
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="/healthz and 1-alert webhooks alternate in this many slices of each phase",
    )
    parser.add_argument("--connections", type=int, default=8, help="keep-alive sockets")
    parser.add_argument("--dir", default=None, help="folder for the database (default: temp)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    median = report["median"]
    print("phase        req/s  alerts/s  p50 ms  p99 ms  server CPU %  CPU ms/req  client CPU %")
    for name in ("healthz", *(f"webhook_{size}" for size in SIZES)):
        row = median[name]
        print(
            f"{name:<11} {row['requests_per_second']:>6}  {row['alerts_per_second']:>8}  "
            f"{row['p50_ms']:>6}  {row['p99_ms']:>6}  {row['server_cpu_percent']:>12}  "
            f"{row['server_cpu_ms_per_request']:>10}  {row['client_cpu_percent']:>12}"
        )
    print(f"ratio of 1-alert webhooks to /healthz (median of rounds): {median['ratio_1']:.3f}")
    print(f"load average during the run: {report['load_average']}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
