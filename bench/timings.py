"""Timings the tests used to assert and no longer do (a loaded machine made them flaky).

The tests check that each behaviour happens (a locked store refuses, an in-process write
wakes the watch, a stuck receiver never holds up intake, SIGTERM ends the server with
streams open); how fast is measured here, on a quiet machine, and printed:

- **lock wait**: ``act()`` against a store whose file another connection holds with
  ``BEGIN EXCLUSIVE``, ``busy_timeout=0.2``: seconds until ``Unavailable`` (expect just
  above 0.2: the store waits for the lock, then refuses).
- **wake-up**: an in-process ``create_incident`` seen by ``watch()`` polling once an hour,
  so only the wake-up can deliver it; median and p95 over ``--wakes`` writes.
- **stuck receiver**: 20 Alertmanager ingests while a webhook receiver never answers
  (queue of 2, one-minute timeout): seconds for the 20 ingests.
- **SIGTERM with streams**: ``incidents serve`` with three open ``/v1/stream`` clients:
  seconds from SIGTERM to exit.
- **demo**: ``console.demo.seed.build`` (2,000 past + 40 open incidents, pure) and
  ``seed()`` of the same into a fresh SQLite file: seconds each.
- **soak**: the wall soak of ``tests/wall/test_soak.py`` (a simulated day): seconds, and
  the live-block and widget samples it checks.

    python bench/timings.py            # everything
    python bench/timings.py --no-serve # without the server process

Prints the figures and writes them as JSON to ``bench/results/timings.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from backends.base import Unavailable  # noqa: E402
from backends.sqlite import intake as sqlite_intake  # noqa: E402
from backends.sqlite.store import SqliteBackend  # noqa: E402
from backends.sqlite.tokens import SqliteTokenStore  # noqa: E402
from console.domain.config import IntakeSettings, NotifySettings, WebhookTarget  # noqa: E402
from console.domain.intake import parse_alertmanager  # noqa: E402
from console.domain.lifecycle import Acknowledge  # noqa: E402
from console.domain.models import Change, NewIncident, Service  # noqa: E402
from console.services.notifier import Notifier  # noqa: E402


async def lock_wait(work: Path) -> float:
    path = work / "lock.db"
    async with SqliteBackend(path, busy_timeout=0.2) as backend:
        await backend.put_service(Service(id="web", name="Web"))
        incident = await backend.create_incident(NewIncident(title="x", service="web"), "a")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            started = time.perf_counter()
            try:
                await backend.act(incident.id, Acknowledge(), "a", incident.version)
            except Unavailable:
                pass
            return time.perf_counter() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()


async def wake_up(work: Path, count: int) -> list[float]:
    async with SqliteBackend(work / "wake.db", poll_interval=3600.0) as backend:
        await backend.put_service(Service(id="web", name="Web"))
        feed = backend.watch(await backend.last_seq())

        async def following() -> Change:
            return await anext(feed)

        waits: list[float] = []
        for n in range(count):
            arrived = asyncio.create_task(following())
            await asyncio.sleep(0.01)  # let the watch settle into its hour-long wait
            started = time.perf_counter()
            await backend.create_incident(NewIncident(title=f"w{n}", service="web"), "a")
            await arrived
            waits.append(time.perf_counter() - started)
        await feed.aclose()  # type: ignore[attr-defined]
        return waits


async def stuck_receiver(work: Path) -> float:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with SqliteBackend(work / "stuck.db") as store:
            await store.put_service(Service(id="checkout", name="Checkout"))
            integration, _ = await sqlite_intake.create_integration(
                store, "checkout", "alertmanager"
            )
            target = WebhookTarget(url=f"http://127.0.0.1:{port}/hook", min_priority="P5")
            settings = NotifySettings(webhooks=[target], timeout=60.0, queue_size=2)
            notifier = Notifier(store, settings)
            await notifier.start()
            try:
                started = time.perf_counter()
                for n in range(20):
                    body = {
                        "version": "4",
                        "status": "firing",
                        "groupKey": f"g{n}",
                        "receiver": "incidents",
                        "alerts": [
                            {
                                "status": "firing",
                                "labels": {"alertname": "HighErrorRate", "instance": f"w{n}"},
                                "annotations": {"summary": f"errors on w{n}"},
                                "startsAt": "2026-11-27T06:55:50Z",
                                "fingerprint": f"f{n}",
                            }
                        ],
                    }
                    _, signals = parse_alertmanager(json.dumps(body), IntakeSettings())
                    await store.ingest(integration, signals)
                return time.perf_counter() - started
            finally:
                await notifier.stop()
    finally:
        server.close()


async def sigterm_with_streams(work: Path) -> float:
    db = work / "serve.db"
    async with SqliteBackend(db) as store:
        _, token = await SqliteTokenStore(store).create("vic", "viewer")
    log = work / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env["INCIDENTS_CONFIG"] = str(work / "none.toml")
    (work / "none.toml").write_text("")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--db", str(db), "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    try:
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            found = re.search(r"listening on (http://\S+)", log.read_text())
            url = found.group(1) if found else ""
            await asyncio.sleep(0.05)
        if not url:
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        connected = 0
        ready = asyncio.Event()

        async def hold(client: httpx.AsyncClient) -> None:
            nonlocal connected
            try:
                async with client.stream("GET", "/v1/stream", params={"ping": 60}) as response:
                    async for line in response.aiter_lines():
                        if line == ": connected":
                            connected += 1
                            if connected == 3:
                                ready.set()
            except httpx.HTTPError:
                pass

        headers = {"Authorization": f"Bearer {token}"}
        clients = [httpx.AsyncClient(base_url=url, headers=headers, timeout=30) for _ in range(3)]
        streams = [asyncio.create_task(hold(c)) for c in clients]
        await asyncio.wait_for(ready.wait(), 30)
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 60)
        took = time.perf_counter() - started
        await asyncio.gather(*streams, return_exceptions=True)
        for client in clients:
            await client.aclose()
        return took
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def soak() -> dict[str, Any]:
    from tests.wall import test_soak

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        figures: dict[str, Any] = asyncio.run(test_soak.simulated_day(Path(folder)))
        figures["seconds"] = round(time.perf_counter() - started, 1)
        return figures


async def demo_data(work: Path) -> dict[str, float]:
    from datetime import UTC, datetime

    from console.demo import seed as demo
    from console.domain.clock import FrozenClock

    now = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    started = time.perf_counter()
    demo.build(now=now, seed=42, user="root")
    built = time.perf_counter() - started
    async with SqliteBackend(work / "demo.db", clock=FrozenClock(now)) as backend:
        started = time.perf_counter()
        await demo.seed(backend, user="root", seed=11)
        seeded = time.perf_counter() - started
    return {"build_s": round(built, 3), "seed_s": round(seeded, 3)}


def ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered) * 1000, 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        results["lock_wait_s"] = round(await lock_wait(work), 3)
        print(f"lock wait with busy_timeout=0.2: {results['lock_wait_s']} s", flush=True)
        results["wake_up_ms"] = ms(await wake_up(work, args.wakes))
        print(
            f"in-process write seen by watch(): median {results['wake_up_ms']['median']} ms,"
            f" p95 {results['wake_up_ms']['p95']} ms",
            flush=True,
        )
        results["stuck_receiver_20_ingests_s"] = round(await stuck_receiver(work), 3)
        print(
            f"20 ingests with a stuck webhook receiver: {results['stuck_receiver_20_ingests_s']} s",
            flush=True,
        )
        results["demo"] = await demo_data(work)
        print(f"demo data: {results['demo']}", flush=True)
        if args.serve:
            results["sigterm_with_3_streams_s"] = round(await sigterm_with_streams(work), 3)
            print(
                f"SIGTERM to exit with 3 open streams: {results['sigterm_with_3_streams_s']} s",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wakes", type=int, default=50)
    parser.add_argument("--no-serve", dest="serve", action="store_false")
    parser.add_argument("--no-soak", dest="soak", action="store_false")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "timings.json")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    if args.soak:
        results["soak"] = soak()
        print(f"soak (a simulated day through the wall): {results['soak']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
