"""Instructions per request of a real ``incidents serve`` under callgrind: ``/healthz``
against 1- and 10-alert Alertmanager webhooks (the same bodies as ``bench/ingest.py``).

Request rates and CPU time swing with the shared machine's load; instruction counts do
not. The server runs under ``valgrind --tool=callgrind`` (user-space instructions of all
its threads; the kernel's share, the fsync and the socket calls, is not counted, see
``bench/ingest.py`` for CPU time). Each phase zeroes the counters
(``callgrind_control -z``), sends ``--requests`` requests on ``--connections`` keep-alive
sockets and dumps them (``-d``). What the server does meanwhile on its own (the change
hub's poll, the escalator's pass) is measured alone for ``--idle`` seconds and taken off
each phase in proportion to its length (the ``idle_share`` column: under valgrind a
request takes ~50x longer, so timers weigh far more than in a real run). Phases
alternate ``--rounds`` times; medians are reported. Prints a table and writes
``bench/results/ingest_instructions.json``.

    python bench/ingest_instructions.py [--requests 200] [--connections 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

from ingest import exchange, prepare, request, webhook, write_report  # noqa: E402  (bench/ingest.py)
from serving import start_server  # noqa: E402  (bench/serving.py)

TOTALS = re.compile(rb"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=120)


def dumped(folder: Path, seen: set[Path]) -> int:
    """The instruction total of the dump file that appeared since ``seen``."""
    for _ in range(600):
        new = sorted(set(folder.glob("callgrind.out.*")) - seen)
        if new:
            seen.update(new)
            text = new[-1].read_bytes()
            match = TOTALS.search(text)
            if match:
                return int(match.group(1))
        time.sleep(0.1)
    raise RuntimeError("callgrind wrote no dump")


async def send(host: str, port: int, make: Any, count: int, connections: int) -> None:
    left = iter(range(count))

    async def one() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in left:
                status, body = await exchange(reader, writer, make())
                if status >= 300:
                    raise RuntimeError(f"the server answered {status}: {body[:300]!r}")
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(one() for _ in range(connections)))


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    db, config = folder / "bench.db", folder / "config.toml"
    config.write_text("")
    key = await prepare(db)
    out = folder / "callgrind"
    out.mkdir()
    wrapper = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}/callgrind.out.%p",
        "--dump-instr=no",
        "--dump-line=no",
    ]
    process, url = start_server(db, config, timeout=900, wrapper=wrapper)
    pid = str(process.pid)
    seen: set[Path] = set()
    host, port_text = url.removeprefix("http://").rsplit(":", 1)
    port = int(port_text)
    authority = f"{host}:{port}"
    healthz = request("GET", "/healthz", authority)
    counter = iter(range(10**9))

    def make_webhook(size: int) -> Any:
        def make() -> bytes:
            batch = f"i{os.getpid()}-{size}-{next(counter)}"
            body = webhook(size, batch)
            return request("POST", "/v1/integrations/alertmanager", authority, body, key)

        return make

    phases: dict[str, tuple[Any, int]] = {
        "healthz": (lambda: healthz, args.requests),
        "webhook_1": (make_webhook(1), args.requests),
        "webhook_10": (make_webhook(10), max(1, args.requests // 4)),
    }
    try:
        await send(host, port, lambda: healthz, 30, args.connections)
        await send(host, port, make_webhook(1), 30, args.connections)
        await send(host, port, make_webhook(10), 10, args.connections)
        control("-z", pid)
        started = time.perf_counter()
        await asyncio.sleep(args.idle)
        control("-d", pid)
        idle_rate = dumped(out, seen) / (time.perf_counter() - started)
        rounds = []
        for number in range(1, args.rounds + 1):
            row: dict[str, Any] = {"round": number}
            for name, (make, count) in phases.items():
                control("-z", pid)
                started = time.perf_counter()
                await send(host, port, make, count, args.connections)
                control("-d", pid)
                seconds = time.perf_counter() - started
                total = dumped(out, seen)
                idle = min(total, idle_rate * seconds)
                row[name] = {
                    "requests": count,
                    "seconds": round(seconds, 2),
                    "instructions_per_request": round((total - idle) / count),
                    "raw_per_request": round(total / count),
                    "idle_share": round(idle / total, 3),
                }
            row["ratio"] = round(
                row["webhook_1"]["instructions_per_request"]
                / row["healthz"]["instructions_per_request"],
                3,
            )
            print(
                f"round {number}: healthz {row['healthz']['instructions_per_request']:,}"
                f"  webhook_1 {row['webhook_1']['instructions_per_request']:,}"
                f"  webhook_10 {row['webhook_10']['instructions_per_request']:,}",
                flush=True,
            )
            rounds.append(row)
    finally:
        process.terminate()
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
        if args.keep is not None:
            shutil.copytree(out, args.keep, dirs_exist_ok=True)
    median = {
        name: {
            key: statistics.median(r[name][key] for r in rounds)
            for key in ("instructions_per_request", "raw_per_request", "idle_share")
        }
        for name in phases
    }
    return {
        "benchmark": "instructions per request of incidents serve (callgrind, user space)",
        "requests": args.requests,
        "connections": args.connections,
        "idle_instructions_per_second": round(idle_rate),
        "load_average": os.getloadavg(),
        "median": median,
        "rounds": rounds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per phase")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive sockets")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are reported)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of the idle phase")
    parser.add_argument("--dir", default=None, help="folder for the database (default: temp)")
    parser.add_argument("--keep", type=Path, default=None, help="copy callgrind's dumps here")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "ingest_instructions.json"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind (Debian: apt install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.dir) as tmp:
        report = asyncio.run(measure(args, Path(tmp)))
    print("phase        instructions/req  (raw)       idle share")
    for name, row in report["median"].items():
        print(
            f"{name:<11} {row['instructions_per_request']:>16,.0f}  "
            f"{row['raw_per_request']:>11,.0f}  {row['idle_share']:>10}"
        )
    webhook_1 = report["median"]["webhook_1"]["instructions_per_request"]
    healthz = report["median"]["healthz"]["instructions_per_request"]
    print(f"1-alert webhook / healthz instructions: {webhook_1 / healthz:.2f}")
    print(f"load average: {report['load_average']}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
