"""Memory of a real ``incidents serve`` under sustained alert intake: does its RSS level off?

Starts the server on a fresh database (one service, one Alertmanager integration) and posts
1-alert webhooks over ``--connections`` keep-alive sockets (the raw-socket client of
``bench/ingest.py``) for ``--minutes``. The alerts behave like a monitored estate: every
webhook fires a new group and resolves the group fired ``--open`` webhooks earlier, so the
number of open incidents stays about constant while the tables keep growing, as in
production. Every ``--every`` seconds it prints the server's RSS and its parts from
``/proc/PID/status`` (anonymous memory: the Python heap, SQLite page caches, native
buffers; file-backed: code and mapped files; shared: the WAL index), and the webhooks
answered so far.

Pass when RSS over the last half of the run stays within 10 % (max / min <= 1.10).
Writes ``bench/results/soak_serve.json``.

    python bench/soak_serve.py [--minutes 10] [--every 30] [--connections 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import exchange, prepare, request, served, webhook, write_report  # noqa: E402


def memory(pid: int) -> dict[str, float]:
    """RSS and its parts, MB, from /proc/PID/status."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def resolved(body: bytes) -> bytes:
    data = json.loads(body)
    data["status"] = "resolved"
    for alert in data["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-27T07:05:50.145014539Z"
    return json.dumps(data).encode()


async def sender(
    host: str,
    port: int,
    key: str,
    index: int,
    args: argparse.Namespace,
    stop: asyncio.Event,
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    authority = f"{host}:{port}"
    fired: deque[bytes] = deque()
    number = 0
    try:
        while not stop.is_set():
            body = webhook(1, f"s{index}-{number}")
            number += 1
            fired.append(body)
            bodies = [body]
            if args.open and len(fired) > args.open:
                bodies.append(resolved(fired.popleft()))
            for item in bodies:
                data = request("POST", "/v1/integrations/alertmanager", authority, item, key)
                status, answer = await exchange(reader, writer, data)
                if status != 200:
                    raise RuntimeError(f"the server answered {status}: {answer[:300]!r}")
                counts[index] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def soak(url: str, pid: int, key: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    host, port_text = url.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    stop = asyncio.Event()
    counts = [0] * args.connections
    tasks = [
        asyncio.create_task(sender(host, port, key, i, args, stop, counts))
        for i in range(args.connections)
    ]
    samples = []
    started = time.monotonic()
    end = started + args.minutes * 60
    print("minute  webhooks   RSS MB  anon MB  file MB  shmem MB", flush=True)
    try:
        while True:
            now = time.monotonic()
            sample = {
                "seconds": round(now - started, 1),
                "webhooks": sum(counts),
                **memory(pid),
            }
            samples.append(sample)
            print(
                f"{sample['seconds'] / 60:>6.1f}  {sample['webhooks']:>8}  "
                f"{sample['VmRSS']:>7}  {sample['RssAnon']:>7}  {sample['RssFile']:>7}  "
                f"{sample['RssShmem']:>8}",
                flush=True,
            )
            failed = [task for task in tasks if task.done()]
            if failed:
                await failed[0]  # raises what stopped a sender
            if now >= end:
                break
            await asyncio.sleep(min(args.every, max(0.0, end - time.monotonic())))
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return samples


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with served(prepare, args.dir) as server:
        samples = await soak(server.url, server.process.pid, server.secret, args)
        size_mb = round(sum(f.stat().st_size for f in server.folder.glob("bench.db*")) / 2**20, 1)
    half = [s["VmRSS"] for s in samples if s["seconds"] >= samples[-1]["seconds"] / 2]
    spread = max(half) / min(half)
    return {
        "benchmark": "RSS of incidents serve under sustained 1-alert intake",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "minutes": args.minutes,
        "connections": args.connections,
        "open_groups_per_connection": args.open,
        "database_mb_at_end": size_mb,
        "last_half_rss_max_over_min": round(spread, 3),
        "flat_within_10_percent": spread <= 1.10,
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--open", type=int, default=50, help="open groups per connection (0: never resolve)"
    )
    parser.add_argument("--dir", default=None, help="folder for the database (default: temp)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak_serve.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(
        f"database at the end: {report['database_mb_at_end']} MB; RSS over the last half: "
        f"max/min {report['last_half_rss_max_over_min']} "
        f"({'flat' if report['flat_within_10_percent'] else 'NOT flat'} within 10 %)"
    )
    write_report(args.out, report)
    return 0 if report["flat_within_10_percent"] else 1


if __name__ == "__main__":
    sys.exit(main())
