"""Benchmark of the SQLite store against the targets of issue 2.

On a database of 1,000,000 incidents of which 10,000 are open:

- the queue query (open, most urgent first, first 500, parsed into ``Incident`` models)
  must take under 20 ms median;
- creating 10,000 incidents in one batch must take under 2 s;
- a commit in one process must be seen by another process's ``watch()`` within 300 ms p95.

The big database is built once (bulk ``import_records`` in chunks) and cached under
``bench/.data/``; every run works on a fresh copy of it, so measurements that write (the batch
create, the watch commits) never change what the next run starts from.

    python bench/store.py                   # the full run (builds the cache the first time)
    python bench/store.py --incidents 50000 # a quick run on a smaller database

Prints the figures and writes them as JSON to ``bench/results/store.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from backends.sqlite.store import MIGRATIONS, SqliteBackend  # noqa: E402
from console.domain import lifecycle  # noqa: E402
from console.domain.models import (  # noqa: E402
    EntryKind,
    HoldReason,
    Incident,
    IncidentQuery,
    NewIncident,
    Pause,
    ResolutionCode,
    Service,
    Status,
    TimelineEntry,
    User,
    priority_for,
)

TARGETS = {"queue_median_ms": 20.0, "batch_create_s": 2.0, "watch_p95_ms": 300.0}
SERVICES = [
    "checkout",
    "payments",
    "search",
    "auth",
    "catalog",
    "email",
    "cdn",
    "dns",
    "billing",
    "mobile-api",
    "warehouse",
    "reporting",
]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
PROBLEMS = [
    "latency above 2s on p99",
    "error rate above 5%",
    "disk 95% full on primary",
    "certificate expires in 3 days",
    "replication lag over 30s",
    "pod crash-looping",
    "queue backlog growing",
    "5xx spike from upstream",
    "memory leak suspected",
    "health check flapping",
]
CHUNK = 50_000


def _records(
    rng: random.Random, count: int, open_count: int, now: datetime
) -> list[tuple[Incident, list[TimelineEntry]]]:
    """``count`` realistic incidents (the last ``open_count`` still open) with timelines."""
    records: list[tuple[Incident, list[TimelineEntry]]] = []
    template = Incident(
        id=0, key="INC-0", title="template", service="checkout", created_at=now, updated_at=now
    )
    for n in range(count):
        service = rng.choice(SERVICES)
        impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
        priority = priority_for(impact, urgency)
        is_open = n >= count - open_count
        if is_open:
            created = now - timedelta(minutes=rng.uniform(1, 3 * 24 * 60))
        else:
            created = now - timedelta(days=rng.uniform(1, 365))
        incident = template.model_copy(
            update={
                "title": f"{service}: {rng.choice(PROBLEMS)}",
                "service": service,
                "impact": impact,
                "urgency": urgency,
                "priority": priority,
                "policy": None,
                "assignee": rng.choice(USERS) if rng.random() < 0.7 else None,
                "created_at": created,
                "updated_at": created,
                "source": "alertmanager" if rng.random() < 0.6 else "manual",
                "labels": {"env": "prod", "region": rng.choice(["eu-west-1", "us-east-1"])},
            }
        )
        entries = [lifecycle.created_entry(incident, "bench")]
        if is_open:
            roll = rng.random()
            if roll < 0.5:
                pass  # triggered
            else:
                acked = created + timedelta(minutes=rng.uniform(0.5, 30))
                update: dict[str, Any] = {
                    "status": Status.ACKNOWLEDGED,
                    "acknowledged_at": acked,
                    "assignee": incident.assignee or rng.choice(USERS),
                    "updated_at": acked,
                    "version": 2,
                }
                kind, message = EntryKind.ACKNOWLEDGED, "acknowledged"
                if roll > 0.9:
                    update.update(
                        status=Status.ON_HOLD,
                        hold_reason=HoldReason.AWAITING_VENDOR,
                        pauses=(Pause(start=acked, reason="awaiting_vendor"),),
                    )
                    kind, message = EntryKind.ON_HOLD, "put on hold, awaiting vendor"
                incident = incident.model_copy(update=update)
                entries.append(_entry(incident, kind, message, acked))
        else:
            acked = created + timedelta(minutes=rng.lognormvariate(2.0, 1.0))
            resolved = acked + timedelta(minutes=rng.lognormvariate(4.0, 1.2))
            incident = incident.model_copy(
                update={
                    "status": Status.CLOSED if rng.random() < 0.8 else Status.RESOLVED,
                    "acknowledged_at": acked,
                    "resolved_at": resolved,
                    "closed_at": resolved + timedelta(hours=1),
                    "resolution_code": ResolutionCode.FIXED,
                    "assignee": incident.assignee or rng.choice(USERS),
                    "updated_at": resolved,
                    "version": 2,
                }
            )
            entries.append(_entry(incident, EntryKind.RESOLVED, "resolved (fixed)", resolved))
        records.append((incident, entries))
    return records


def _entry(incident: Incident, kind: EntryKind, message: str, at: datetime) -> TimelineEntry:
    return TimelineEntry(
        incident_id=incident.id,
        version=incident.version,
        at=at,
        actor=incident.assignee or "bench",
        kind=kind,
        message=message,
    )


async def build(path: Path, count: int, open_count: int, seed: int = 7) -> float:
    """Build the cached database at ``path`` (via a temporary file, so a half-built cache
    never survives an interruption). Returns the seconds it took."""
    started = time.perf_counter()
    partial = path.with_suffix(".building")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    async with SqliteBackend(partial) as store:
        for user in USERS:
            await store.put_user(User(id=user, name=user.title()))
        for service in SERVICES:
            await store.put_service(Service(id=service, name=service.title()))
        closed = count - open_count
        done = 0
        # Closed history first, the open incidents last (as they would be in real life).
        while done < count:
            size = min(CHUNK, count - done)
            open_here = max(0, done + size - closed) - max(0, done - closed)
            await store.import_records(_records(rng, size, open_here, now))
            done += size
            print(f"\r  built {done:,} / {count:,} incidents", end="", flush=True)
    print()
    partial.rename(path)
    return time.perf_counter() - started


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered) * 1000, 2),
        "p95": round(p95 * 1000, 2),
        "min": round(ordered[0] * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "runs": len(ordered),
    }


async def bench_queue(store: SqliteBackend, runs: int) -> dict[str, Any]:
    query = IncidentQuery(limit=500)
    for _ in range(3):  # warm the page cache and the statement cache
        await store.list_incidents(query)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        found = await store.list_incidents(query)
        samples.append(time.perf_counter() - started)
    assert len(found) == query.limit, len(found)
    return {**_ms(samples), "rows": len(found)}


async def bench_batch(store: SqliteBackend, size: int) -> dict[str, Any]:
    batch = [
        NewIncident(
            title=f"batch {n}: {PROBLEMS[n % len(PROBLEMS)]}",
            service=SERVICES[n % len(SERVICES)],
            impact=1 + n % 3,
            urgency=1 + (n // 3) % 3,
            assignee=USERS[n % len(USERS)] if n % 4 else None,
        )
        for n in range(size)
    ]
    started = time.perf_counter()
    created = await store.create_incidents(batch, "bench")
    seconds = time.perf_counter() - started
    assert len(created) == size
    return {"size": size, "seconds": round(seconds, 3)}


WRITER = """
    import asyncio, json, random, sys, time
    from backends.sqlite.store import SqliteBackend
    from console.domain.lifecycle import AddNote

    async def main():
        path, incident_id, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        rng = random.Random(3)
        stamps = {}
        async with SqliteBackend(path) as store:
            version = (await store.get_incident(incident_id)).version
            print("ready", flush=True)
            sys.stdin.readline()
            for n in range(commits):
                await asyncio.sleep(rng.uniform(0.03, 0.12))  # not in step with the poll
                incident = await store.act(incident_id, AddNote(text=f"bench {n}"), "w", version)
                stamps[incident.version] = time.time()  # the commit has returned
                version = incident.version
        print(json.dumps(stamps), flush=True)

    asyncio.run(main())
"""


async def bench_watch(store: SqliteBackend, path: Path, commits: int) -> dict[str, Any]:
    [target] = await store.list_incidents(IncidentQuery(limit=1))
    seen: dict[int, float] = {}
    feed = store.watch(await store.last_seq())

    async def collect() -> None:
        async for change in feed:
            if change.entity_id == str(target.id) and change.version is not None:
                seen[change.version] = time.time()
                if len(seen) == commits:
                    return

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        textwrap.dedent(WRITER),
        str(path),
        str(target.id),
        str(commits),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert (await proc.stdout.readline()).strip() == b"ready"
    watcher = asyncio.create_task(collect())
    await asyncio.sleep(0.3)  # the watch is running
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    stamps = {int(k): v for k, v in json.loads(await proc.stdout.readline()).items()}
    await asyncio.wait_for(watcher, 30)
    await proc.wait()
    await feed.aclose()  # type: ignore[attr-defined]
    latencies = [max(0.0, seen[version] - at) for version, at in stamps.items()]
    return {**_ms(latencies), "commits": commits, "poll_interval_s": store._poll_interval}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="incidents in all")
    parser.add_argument("--open", type=int, default=10_000, help="of which open")
    parser.add_argument("--runs", type=int, default=50, help="runs of the queue query")
    parser.add_argument("--batch", type=int, default=10_000, help="size of the batch create")
    parser.add_argument("--commits", type=int, default=50, help="commits watched")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "store.json")
    args = parser.parse_args()
    open_count = min(args.open, args.incidents)

    data = HERE / ".data"
    data.mkdir(exist_ok=True)
    golden = data / f"store-{args.incidents}-{open_count}-v{len(MIGRATIONS)}.db"
    build_s = None
    if args.rebuild or not golden.exists():
        golden.unlink(missing_ok=True)
        print(f"building {golden.name}: {args.incidents:,} incidents, {open_count:,} open")
        build_s = await build(golden, args.incidents, open_count)
        print(f"  built in {build_s:.1f} s")
    work = data / "work.db"
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(golden, work)

    results: dict[str, Any] = {
        "incidents": args.incidents,
        "open": open_count,
        "database_mb": round(golden.stat().st_size / 1e6, 1),
        "build_s": None if build_s is None else round(build_s, 1),
        "targets": TARGETS,
        "python": sys.version.split()[0],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    async with SqliteBackend(work) as store:
        results["queue"] = await bench_queue(store, args.runs)
        print(
            f"queue query (open, most urgent first, 500 parsed): median "
            f"{results['queue']['median']} ms, p95 {results['queue']['p95']} ms "
            f"(target median < {TARGETS['queue_median_ms']:g} ms)"
        )
        results["batch_create"] = await bench_batch(store, args.batch)
        print(
            f"create {args.batch:,} in one batch: {results['batch_create']['seconds']} s "
            f"(target < {TARGETS['batch_create_s']:g} s)"
        )
        results["watch"] = await bench_watch(store, work, args.commits)
        print(
            f"commit in another process seen by watch(): median {results['watch']['median']} ms,"
            f" p95 {results['watch']['p95']} ms, max {results['watch']['max']} ms "
            f"(target p95 < {TARGETS['watch_p95_ms']:g} ms)"
        )
        # The batch create added open incidents: the queue query again, on the bigger queue.
        results["queue_after_batch"] = await bench_queue(store, args.runs)
        print(
            f"queue query with {open_count + args.batch:,} open: median "
            f"{results['queue_after_batch']['median']} ms"
        )
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)

    results["pass"] = {
        "queue": results["queue"]["median"] < TARGETS["queue_median_ms"],
        "batch_create": results["batch_create"]["seconds"] < TARGETS["batch_create_s"],
        "watch": results["watch"]["p95"] < TARGETS["watch_p95_ms"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}; all targets met: {all(results['pass'].values())}")


if __name__ == "__main__":
    asyncio.run(main())
