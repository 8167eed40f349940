"""Server CPU of the SSE fan-out of ``incidents serve``: per subscriber, per change.

Starts a real server over a fresh database, opens ``--subscribers`` ``GET /v1/stream``
streams on raw sockets (each read and counted, nothing parsed but the frame ids), then one
client adds ``--changes`` notes to an incident, one at a time (each answer awaited: one
change per action, the hardest case for batching), waiting until every stream has the
change before the next. The same actions are measured with no subscriber first; the
difference in the server's CPU (``/proc/PID/stat``, all threads) divided by subscribers x
changes is the fan-out cost. Runs ``--rounds`` rounds and reports medians; writes
``bench/results/sse.json``.

    python bench/sse.py [--subscribers 200] [--changes 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import cpu_seconds, exchange, request, served, write_report  # noqa: E402

from backends.sqlite.store import SqliteBackend  # noqa: E402
from backends.sqlite.tokens import SqliteTokenStore  # noqa: E402
from console.domain.models import NewIncident, Service, User  # noqa: E402


async def prepare(db: Path) -> str:
    async with SqliteBackend(db) as store:
        await store.put_user(User(id="bench", name="Bench"))
        await store.put_service(Service(id="web", name="Web shop"))
        await store.create_incident(NewIncident(title="fan-out", service="web"), "bench")
        _, token = await SqliteTokenStore(store).create("bench", "responder", "bench")
    return token


class Stream:
    """One SSE subscriber on a raw socket: the newest ``id:`` it has read."""

    def __init__(self) -> None:
        self.last = 0
        self.writes = 0
        self.moved = asyncio.Event()

    async def run(self, host: str, port: int, token: str, ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /v1/stream?ping=300 HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        ready.set()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                self.writes += 1
                ids = re.findall(rb"\nid: (\d+)", b"\n" + data)
                if ids:
                    self.last = int(ids[-1])
                    self.moved.set()
        finally:
            writer.close()


async def act(reader: Any, writer: Any, authority: str, token: str, version: int) -> int:
    body = json.dumps(
        {"action": {"kind": "note", "text": f"note {version}"}, "expected_version": version}
    ).encode()
    data = request("POST", "/v1/incidents/1/actions", authority, body)
    data = data.replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {token}\r\n\r\n".encode(), 1)
    status, answer = await exchange(reader, writer, data)
    if status != 200:
        raise RuntimeError(f"act answered {status}: {answer[:300]!r}")
    return int(json.loads(answer)["version"])


async def last_seq(reader: Any, writer: Any, authority: str, token: str) -> int:
    data = request("GET", "/v1/changes/last", authority)
    data = data.replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {token}\r\n\r\n".encode(), 1)
    status, answer = await exchange(reader, writer, data)
    return int(json.loads(answer)["seq"])


async def actions(
    host: str, port: int, pid: int, token: str, streams: list[Stream], count: int, version: int
) -> tuple[float, float, int]:
    """``count`` notes, each waited for on every stream: (server CPU s, wall s, version)."""
    authority = f"{host}:{port}"
    reader, writer = await asyncio.open_connection(host, port)
    try:
        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        for _ in range(count):
            version = await act(reader, writer, authority, token, version)
            seq = await last_seq(reader, writer, authority, token)
            for stream in streams:
                while stream.last < seq:
                    stream.moved.clear()
                    await asyncio.wait_for(stream.moved.wait(), 30)
        return cpu_seconds(pid) - cpu0, time.perf_counter() - wall0, version
    finally:
        writer.close()


async def measure(url: str, pid: int, token: str, args: argparse.Namespace) -> dict[str, Any]:
    host, port_text = url.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    version = 1
    rounds = []
    streams = [Stream() for _ in range(args.subscribers)]
    for number in range(1, args.rounds + 1):
        # The CPU without subscribers brackets the run with them (half before, half after),
        # so a change in the machine's load during the round moves both alike.
        before_cpu, _, version = await actions(
            host, port, pid, token, [], args.changes // 2, version
        )
        tasks = []
        for stream in streams:
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(stream.run(host, port, token, ready)))
            await ready.wait()
        writes0 = sum(s.writes for s in streams)
        cpu, wall, version = await actions(host, port, pid, token, streams, args.changes, version)
        writes = sum(s.writes for s in streams) - writes0
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        after_cpu, _, version = await actions(
            host, port, pid, token, [], args.changes - args.changes // 2, version
        )
        idle_cpu = before_cpu + after_cpu
        per = (cpu - idle_cpu) / (args.subscribers * args.changes)
        rounds.append(
            {
                "round": number,
                "cpu_ms_per_action_without_subscribers": round(1000 * idle_cpu / args.changes, 3),
                "cpu_ms_per_action_with_subscribers": round(1000 * cpu / args.changes, 3),
                "fanout_us_per_subscriber_per_change": round(per * 1e6, 2),
                "socket_reads_per_stream_per_change": round(
                    writes / (args.subscribers * args.changes), 2
                ),
                "wall_ms_per_action": round(1000 * wall / args.changes, 2),
            }
        )
        print(f"round {number}: {rounds[-1]}", flush=True)
    return {
        "median": {
            key: round(statistics.median(r[key] for r in rounds), 3)
            for key in rounds[0]
            if key != "round"
        },
        "rounds": rounds,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with served(prepare) as server:
        result = await measure(server.url, server.process.pid, server.secret, args)
    return {
        "benchmark": "SSE fan-out of incidents serve: server CPU per subscriber per change",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "subscribers": args.subscribers,
        "changes": args.changes,
        "load_average": os.getloadavg(),
        **result,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sse.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    median = report["median"]
    print(
        f"{args.subscribers} subscribers: {median['fanout_us_per_subscriber_per_change']} us "
        f"server CPU per subscriber per change; per action "
        f"{median['cpu_ms_per_action_with_subscribers']} ms "
        f"({median['cpu_ms_per_action_without_subscribers']} ms with none)"
    )
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
