# ruff: noqa: E402 - the sys.path fix below must run before the project imports
"""Alert storm into an open console (issue 13 point 5): is the console still responsive?

A real ``incidents serve`` on a SQLite file that already holds ``--open`` open incidents
takes Alertmanager webhooks at ``--rate`` alerts per second for ``--seconds`` (webhooks of
``--alerts`` alerts from a separate sender process, so the load generator does not share the
console's interpreter). Part of the webhooks (``--new-share``) open a new group (a new
incident); the rest repeat the alerts of a group already open (an update of its incident).
Meanwhile a console (headless Textual, the local SQLite backend on the same file, which is
what a responder on that host runs) follows the change feed, and a cursor key is pressed
every ``--key-every`` seconds; each key's time to its frame is measured as in
``console_scale.py``.

Reports the key latency before and during the storm (p50, p95, max), the alerts per second
the server took, the console's batches (changes coalesced per fetch), and how long after
the last webhook the console showed every open incident the store holds, and the RSS of
the console (the store is built by a child process, so it is the console's own) and of the
server. Writes
``bench/results/storm.json``.

    python bench/storm.py                                  # 10,000 open, 2,000 alerts/s, 30 s
    python bench/storm.py --open 100000 --seconds 30

Target (issue 13): key p95 under 50 ms during the storm.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# The helpers (ingest, console_scale) are imported from this folder by their file names.

import argparse
import asyncio
import importlib.util
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from typing import Any

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from console.domain.clock import SystemClock
from console.domain.models import IncidentQuery, Service
from console.tui.app import make_app


def _helper(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, _HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


console_scale = _helper("console_scale")
ingest = _helper("ingest")
serving = _helper("serving")
RESULTS = _HERE / "results" / "storm.json"
TARGET_KEY_P95_MS = 50.0


async def prepare(path: Path, count: int) -> str:
    """``count`` open incidents (``console_scale.records``) plus a service and integration
    for the storm; returns the integration key."""
    async with SqliteBackend(path) as store:
        for service in console_scale.SERVICES:
            await store.put_service(Service(id=service, name=service.title()))
        await store.put_service(Service(id="storm", name="Storm"))
        if count:
            await store.import_records(console_scale.records(count))
        _, key = await sqlite_intake.create_integration(store, "storm", "alertmanager")
    return key


# the sender (a process of its own) ---------------------------------------------------------
async def send(url: str, key: str, rate: float, seconds: float, size: int, new_share: float):
    """Post webhooks of ``size`` alerts at ``rate`` alerts/s for ``seconds``; print figures."""
    host, port_text = url.removeprefix("http://").rsplit(":", 1)
    authority = f"{host}:{port_text}"
    per_second = rate / size
    rng = random.Random(13)
    groups: list[str] = []
    counter = iter(range(10**9))
    sent = accepted = 0
    latencies: list[float] = []
    failures: list[str] = []
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def body() -> bytes:
        """New alerts (unique fingerprints) into a new group, or into an open group."""
        if not groups or rng.random() < new_share:
            groups.append(f"storm-{os.getpid()}-{len(groups)}")
            group = groups[-1]
        else:
            group = rng.choice(groups)
        payload = json.loads(ingest.webhook(size, f"{group}-{next(counter)}"))
        payload["groupKey"] = f'{{}}:{{alertname="Bench", batch="{group}"}}'
        for alert in payload["alerts"]:
            alert["labels"]["batch"] = group
        return ingest.request(
            "POST", "/v1/integrations/alertmanager", authority, json.dumps(payload).encode(), key
        )

    async def worker() -> None:
        nonlocal accepted
        reader, writer = await asyncio.open_connection(host, int(port_text))
        try:
            while (data := await queue.get()) is not None:
                started = time.perf_counter()
                status, answer = await ingest.exchange(reader, writer, data)
                latencies.append((time.perf_counter() - started) * 1000)
                if status >= 300:
                    failures.append(f"{status} {answer[:200]!r}")
                else:
                    accepted += size
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * per_second) + 1
        while sent < due:
            queue.put_nowait(body())
            sent += 1
        await asyncio.sleep(max(0.0, sent / per_second - (time.perf_counter() - started)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    took = time.perf_counter() - started
    print(
        json.dumps(
            {
                "webhooks": sent,
                "alerts_sent": sent * size,
                "alerts_accepted": accepted,
                "send_s": took,
                "alerts_per_second": accepted / took,
                "webhook_p50_ms": statistics.median(latencies) if latencies else None,
                "webhook_p95_ms": console_scale.p95(latencies) if latencies else None,
                "new_groups": len(groups),
                "failures": failures[:5],
                "failed": len(failures),
            }
        ),
        flush=True,
    )


# the console -------------------------------------------------------------------------------
async def keys_for(pilot: Any, seconds: float, every: float, stop: asyncio.Event | None) -> list:
    """Press cursor keys for ``seconds`` (or until ``stop``): each key's ms to its frame."""
    times: list[float] = []
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds and not (stop and stop.is_set()):
        key = "j" if (n // 20) % 2 == 0 else "k"
        times.append(await console_scale.answer(pilot, key))
        n += 1
        await asyncio.sleep(every)
    return times


def summary(times: list[float]) -> dict[str, float]:
    if not times:
        return {"keys": 0}
    return {
        "keys": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": console_scale.p95(times),
        "max_ms": max(times),
    }


def prepare_in_child(path: Path, count: int) -> str:
    """``prepare`` in a process of its own: building 100,000 records here would leave their
    memory in the console's process and inflate the console RSS this bench reports."""
    done = subprocess.run(
        [sys.executable, __file__, "--prepare", str(path), str(count)],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def storm(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    db = folder / "storm.db"
    t = time.perf_counter()
    key = prepare_in_child(db, args.open)
    prepared = time.perf_counter() - t
    config = folder / "config.toml"
    config.write_text("")
    server, url = serving.start_server(db, config)
    result: dict[str, Any] = {
        "open": args.open,
        "rate": args.rate,
        "seconds": args.seconds,
        "alerts_per_webhook": args.alerts,
        "new_share": args.new_share,
        "prepare_s": prepared,
    }
    backend = await SqliteBackend(db, clock=SystemClock()).open()
    try:
        app = make_app(backend, user="alice")
        batches: list[int] = []
        apply_changes = app._apply_changes

        async def counted(changes: Any) -> None:
            batches.append(len(changes))
            await apply_changes(changes)

        app._apply_changes = counted  # type: ignore[method-assign]
        async with app.run_test(size=(160, 50)) as pilot:
            await console_scale.wait_for(lambda: app.fully_loaded, "the full load", 0.05, 600)
            await pilot.pause()
            result["quiet"] = summary(await keys_for(pilot, 5, args.key_every, None))
            sender = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--sender",
                url,
                key,
                str(args.rate),
                str(args.seconds),
                str(args.alerts),
                str(args.new_share),
                stdout=asyncio.subprocess.PIPE,
            )
            cpu_before = ingest.cpu_seconds(server.pid)
            console_cpu_before = time.process_time()
            done = asyncio.Event()
            waiter = asyncio.create_task(sender.communicate())
            waiter.add_done_callback(lambda _: done.set())
            storm_started = time.perf_counter()
            during = await keys_for(pilot, args.seconds + 60, args.key_every, done)
            out, _ = await waiter
            sent_at = time.perf_counter()
            result["server_cpu_percent"] = (
                100 * (ingest.cpu_seconds(server.pid) - cpu_before) / (sent_at - storm_started)
            )
            # the console's own CPU (its loop and its store threads) per second of storm
            result["console_cpu_percent"] = (
                100 * (time.process_time() - console_cpu_before) / (sent_at - storm_started)
            )
            result["sender"] = json.loads(out.decode().strip().splitlines()[-1])
            result["during"] = summary(during)
            # Caught up: the console holds every open incident the store holds.
            store_open = await backend.count_incidents(IncidentQuery())
            screen = app.screen

            def caught_up() -> bool:
                return len(screen.model) >= store_open

            await console_scale.wait_for(caught_up, "the console to catch up", 0.05, 120)
            result["catch_up_s"] = time.perf_counter() - sent_at
            result["open_after"] = store_open
            result["rows_after"] = len(screen.model)
            result["batches"] = len(batches)
            result["changes_per_batch_median"] = statistics.median(batches) if batches else 0
            result["changes_per_batch_max"] = max(batches) if batches else 0
            result["console_rss_mb"] = console_scale.rss_mb()
            result["console_peak_rss_mb"] = console_scale.rss_mb("VmHWM")
            result["server_rss_mb"] = _rss(server.pid)
    finally:
        await backend.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return result


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000, help="open incidents before")
    parser.add_argument("--rate", type=float, default=2000, help="alerts per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--alerts", type=int, default=100, help="alerts per webhook")
    parser.add_argument("--new-share", type=float, default=0.2, help="webhooks of a new group")
    parser.add_argument("--key-every", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--sender", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(asyncio.run(prepare(Path(args.prepare[0]), int(args.prepare[1]))))
        return
    if args.sender:
        url, key, rate, seconds, size, share = args.sender
        asyncio.run(send(url, key, float(rate), float(seconds), int(size), float(share)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-storm-") as folder:
        result = asyncio.run(storm(args, Path(folder)))
    sender = result["sender"]
    quiet, during = result["quiet"], result["during"]
    print(
        f"{args.open:,} open; storm: {sender['alerts_accepted']:,} alerts in "
        f"{sender['send_s']:.1f} s = {sender['alerts_per_second']:,.0f} alerts/s "
        f"(asked {args.rate:,.0f}; {sender['new_groups']} new groups, "
        f"{sender['failed']} failed webhooks; server CPU {result['server_cpu_percent']:.0f} %)"
    )
    print("| phase | keys | key p50 ms | key p95 ms | key max ms |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in (("before", quiet), ("during the storm", during)):
        print(
            f"| {name} | {row['keys']} | {row.get('p50_ms', 0):.1f} | "
            f"{row.get('p95_ms', 0):.1f} | {row.get('max_ms', 0):.1f} |"
        )
    print(
        f"console: {result['batches']} batches (changes per batch: median "
        f"{result['changes_per_batch_median']}, max {result['changes_per_batch_max']}), "
        f"caught up {result['catch_up_s']:.2f} s after the last webhook "
        f"({result['rows_after']:,} rows, {result['open_after']:,} open in the store); "
        f"console CPU {result['console_cpu_percent']:.0f} % during the storm; "
        f"RSS console {result['console_rss_mb']:.0f} MB "
        f"(peak {result['console_peak_rss_mb']:.0f}), server {result['server_rss_mb']:.0f} MB"
    )
    ok = during.get("p95_ms", float("inf")) < TARGET_KEY_P95_MS
    print(
        f"target key p95 < {TARGET_KEY_P95_MS:.0f} ms during the storm: {'ok' if ok else 'MISSED'}"
    )
    result["met"] = ok
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
