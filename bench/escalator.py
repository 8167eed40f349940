"""Cost of one automatic-escalator pass at 100,000 open incidents with nothing due.

The escalator runs every 5 s: in ``incidents serve`` beside intake, and in a local SQLite
console on the UI event loop (under the file's lease, ``console/services/automation.py``).
The store is built with ``--open`` incidents (default 100,000), two thirds triggered on a
service whose policy waits an hour and one third acknowledged, all created now, so no
escalation and no SLA breach is due. Then, in the same run, alternating:

- **after**: ``Escalator.tick`` as it is (the store's indexed ``escalator_due <= now``);
- **before**: the pass as it was up to ee0186b (every triggered incident, and every open
  breached one, in pages of 2,000 by ``list_incidents``, each parsed into an ``Incident``
  and run through ``plan_automatic`` and the breach rule).

Per pass: CPU ms of this process (``time.process_time``: the event loop and the store's
reader thread both count), the wall ms the event loop spent in the pass (what a console's
UI loop is held for), the incidents the backend handed back, and SQLite virtual-machine
steps counted by a progress handler on the reader connection in a second, untimed pass (rows read cost
steps; an index probe a few dozen). Medians of ``--rounds`` passes.

Last, the price: ``put_policy`` of that policy (``--puts`` times, alternating a shorter and
the first wait; then once with the same waits, renamed), which recomputes ``escalator_due``
of its triggered incidents, while a
second connection in a thread of its own writes one incident row in a loop (``UPDATE``, its
own transaction each, as intake's smallest write): the longest that 1-row write took is how
long the policy's write held the lock it needs (SQLite: the file's write lock, which every
write needs; PostgreSQL: that incident's row lock, held from when the UPDATE reaches its
row version, which the writer's own updates move to the end of the table, so the put's
wall is the longer hold there: every triggered row stays locked until the commit). CPU ms of
this process (and of the PostgreSQL cluster's processes), wall ms, the 1-row write's
longest and median time during the put, and its median alone before it. ``--store postgres`` runs the
same on a throw-away local cluster (``tests/postgres.py``), ``--puts-only`` skips the passes.

    python bench/escalator.py               # 100,000 open
    python bench/escalator.py --open 10000
    python bench/escalator.py --store postgres --puts-only

Prints the figures and writes JSON to ``bench/results/escalator.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from backends.sqlite.store import SqliteBackend  # noqa: E402
from console.domain.clock import FrozenClock  # noqa: E402
from console.domain.config import Settings  # noqa: E402
from console.domain.escalation import breach_to_mark, plan_automatic  # noqa: E402
from console.domain.lifecycle import Acknowledge  # noqa: E402
from console.domain.models import (  # noqa: E402
    OPEN_STATUSES,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    IncidentQuery,
    NewIncident,
    Service,
    Status,
    TargetKind,
    User,
)
from console.domain.sla import CLOCK_KINDS  # noqa: E402
from console.services.escalator import Escalator  # noqa: E402

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    id="oncall",
    name="On-call",
    levels=(
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="alice"),),
            wait=timedelta(hours=1),
        ),
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="bob"),),
            wait=timedelta(hours=1),
        ),
    ),
)


class Counting:
    """The store, counting the incidents its reads hand back."""

    def __init__(self, store: SqliteBackend) -> None:
        self.store = store
        self.incidents = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def page_incidents(self, *args: Any) -> Any:
        page = await self.store.page_incidents(*args)
        self.incidents += len(page.incidents)
        return page

    async def list_incidents(self, query: IncidentQuery) -> Any:
        found = await self.store.list_incidents(query)
        self.incidents += len(found)
        return found


async def build(store: Any, open_count: int) -> Any:
    for user in ("alice", "bob"):
        await store.put_user(User(id=user, name=user.title()))
    await store.put_policy(POLICY)
    await store.put_service(Service(id="checkout", name="Checkout", policy="oncall"))
    # P4: a day to respond, ten to resolve; nothing is due within the hour.
    fields = {"service": "checkout", "impact": 3, "urgency": 2}
    template = await store.create_incident(NewIncident(title="acked", **fields), "alice")  # type: ignore[arg-type]
    acked = await store.act(template.id, Acknowledge(), "alice", template.version)
    timeline = await store.timeline(acked.id)
    triggered = open_count * 2 // 3
    done = 1
    while done < open_count:
        size = min(5_000, open_count - done)
        if done < triggered:
            size = min(size, triggered - done)
            batch = [NewIncident(title=f"t{done + n}", **fields) for n in range(size)]  # type: ignore[arg-type]
            await store.create_incidents(batch, "alice")
        else:
            await store.import_records([(acked, timeline)] * size)
        done += size
        print(f"\r  built {done:,} / {open_count:,}", end="", flush=True)
    print()
    return store


async def before(backend: Any, clock: FrozenClock, sla: Any) -> list[str]:
    """The pass as it was up to ee0186b (``Escalator.tick`` / ``_open_incidents``)."""
    now = clock.now()
    policies = None
    schedules: dict[str, Any] = {}
    seen: set[int] = set()
    done: list[str] = []
    for query in (
        IncidentQuery(statuses=(Status.TRIGGERED,), sort="age", limit=2_000),
        IncidentQuery(statuses=tuple(OPEN_STATUSES), breached=True, sort="age", limit=2_000),
    ):
        offset = 0
        while True:
            page = await backend.list_incidents(query.model_copy(update={"offset": offset}))
            fresh = [i for i in page if i.id not in seen]
            seen.update(i.id for i in fresh)
            if fresh and policies is None:
                policies = {p.id: p for p in await backend.policies()}
                schedules = {s.id: s for s in await backend.schedules()}
            for incident in sorted(fresh, key=lambda i: i.id):
                if incident.status == Status.TRIGGERED and incident.policy and policies:
                    if plan_automatic(incident, policies.get(incident.policy), schedules, now):
                        done.append(incident.key)
                for kind in CLOCK_KINDS:
                    if breach_to_mark(incident, now, sla, kind):
                        done.append(incident.key)
            if len(page) < 2_000:
                break
            offset += 2_000
    return done


async def measure(store: SqliteBackend, run: Any) -> dict[str, float]:
    """One timed pass, then one with the reader's VM steps counted (the progress handler
    calls back into Python at every step, so it is kept out of the timed pass)."""
    cpu, wall = time.process_time(), time.perf_counter()
    found = await run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    reader = store._reader
    assert reader is not None
    await reader.set_progress_handler(step, 1)
    await run()
    stop: Any = None
    await reader.set_progress_handler(stop, 1)
    return {"cpu_ms": cpu * 1000, "wall_ms": wall * 1000, "vm_steps": steps, "acted": len(found)}


class RowWriter(threading.Thread):
    """Writes one incident row in a loop from its own connection and thread (each write its
    own transaction, as intake's smallest), timing each: how long another write makes it
    wait. ``sqlite3`` on a file, ``asyncpg`` on a DSN."""

    def __init__(self, target: str, incident_id: int) -> None:
        super().__init__(daemon=True)
        self.target, self.incident_id = target, incident_id
        self.times: list[float] = []
        self.stop = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        if self.target.startswith("postgresql://"):
            asyncio.run(self._postgres())
            return
        conn = sqlite3.connect(self.target, isolation_level=None, timeout=600)
        conn.execute("PRAGMA synchronous = FULL")
        try:
            while not self.stop.is_set():
                start = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(_TOUCH.replace("$1", "?"), (self.incident_id,))
                conn.execute("COMMIT")
                self._took(start)
        finally:
            conn.close()

    async def _postgres(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.target)
        try:
            while not self.stop.is_set():
                start = time.perf_counter()
                await conn.execute(_TOUCH, self.incident_id)
                self._took(start)
        finally:
            await conn.close()

    def _took(self, start: float) -> None:
        self.times.append((time.perf_counter() - start) * 1000)
        self.started_writing.set()
        time.sleep(0.002)


_TOUCH = "UPDATE incidents SET updated_at = updated_at WHERE id = $1"


def server_cpu(data: Path | None) -> float:
    """CPU seconds of a PostgreSQL cluster so far: its postmaster and every child (the
    backends do the work of an UPDATE; this process only waits for it). 0 for SQLite."""
    if data is None:
        return 0.0
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if stat.parent.name == str(postmaster) or fields[1] == str(postmaster):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def put_with_writer(
    store: Any, target: str, incident_id: int, policy: Any, data: Path | None = None
) -> dict:
    """One ``put_policy`` with a ``RowWriter`` beside it (see the module docstring); ``data``
    is a PostgreSQL cluster's folder, whose CPU is counted too."""
    writer = RowWriter(target, incident_id)
    writer.start()
    await asyncio.to_thread(writer.started_writing.wait)
    await asyncio.sleep(0.2)
    alone = list(writer.times)
    writer.times.clear()
    cpu, wall, server = time.process_time(), time.perf_counter(), server_cpu(data)
    await store.put_policy(policy)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    server = server_cpu(data) - server
    await asyncio.sleep(0.1)  # the write waiting at the end completes
    writer.stop.set()
    await asyncio.to_thread(writer.join)
    during = writer.times
    return {
        "cpu_ms": cpu * 1000,
        "server_cpu_ms": server * 1000,
        "wall_ms": wall * 1000,
        "row_write_max_ms": max(during),
        "row_write_median_ms": statistics.median(during),
        "row_writes": len(during),
        "row_write_alone_median_ms": statistics.median(alone),
        "load": os.getloadavg()[0],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--puts", type=int, default=3)
    parser.add_argument("--puts-only", action="store_true")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or HERE / "results" / f"escalator-{args.store}.json"
    clock = FrozenClock(T0)
    cluster = None
    data: Path | None = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "postgres":
            from backends.postgres.store import PostgresBackend
            from tests.postgres import Cluster, bin_dir

            bindir = bin_dir()
            if bindir is None:
                sys.exit("no PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
            cluster = Cluster(bindir)
            cluster.start()
            data = cluster.data
            target = await cluster.create_database()
            store: Any = await PostgresBackend(target, clock=clock).open()
        else:
            target = str(Path(tmp) / "escalator.db")
            store = await SqliteBackend(
                target, settings=Settings(db=Path(target)), clock=clock
            ).open()
        started = time.perf_counter()
        try:
            await build(store, args.open)
            print(f"  store built in {time.perf_counter() - started:.0f} s")
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            clock.advance(timedelta(minutes=30))
            rounds = 0 if args.puts_only or args.store != "sqlite" else args.rounds
            counting = Counting(store)
            escalator = Escalator(counting, clock)  # type: ignore[arg-type]
            for _ in range(rounds):
                for name in ("before", "after"):
                    counting.incidents = 0
                    if name == "after":
                        figures = await measure(store, escalator.tick)
                    else:
                        figures = await measure(
                            store, lambda: before(counting, clock, store.settings.sla)
                        )
                    figures["incidents_read"] = counting.incidents / 2  # two passes
                    runs[name].append(figures)
            # A policy written recomputes escalator_due of its triggered incidents
            # (backends/common/due.py): the price of a pass reading nothing.
            shorter = POLICY.model_copy(
                update={
                    "levels": (
                        POLICY.levels[0].model_copy(update={"wait": timedelta(minutes=45)}),
                        *POLICY.levels[1:],
                    )
                }
            )
            [first] = (await store.page_incidents(IncidentQuery(limit=1), None, "oldest")).incidents
            puts = []
            for n in range(args.puts):
                policy = shorter if n % 2 == 0 else POLICY
                puts.append(await put_with_writer(store, target, first.id + 1, policy, data))
                print(f"  put_policy {n + 1}: {puts[-1]}")
            # Who is paged changes, not when: no incident's due instant moves.
            same = (await store.policies())[0].model_copy(update={"name": "On-call (renamed)"})
            unmoved = await put_with_writer(store, target, first.id + 1, same, data)
            print(f"  put_policy, same waits: {unmoved}")
        finally:
            await store.close()
            if cluster is not None:
                cluster.stop()
    put = {k: statistics.median(p[k] for p in puts) for k in puts[0]}
    result: dict[str, Any] = {
        "store": args.store,
        "open": args.open,
        "triggered": args.open * 2 // 3,
        "put_policy": {"median": put, "runs": puts},
        "put_policy_same_waits": unmoved,
    }
    if rounds:
        print(f"one escalator pass, {args.open:,} open ({args.open * 2 // 3:,} triggered), 0 due")
        print(f"{'':8} {'CPU ms':>9} {'loop ms':>9} {'incidents':>10} {'VM steps':>12}")
    for name, passes in runs.items() if rounds else ():
        median = {k: statistics.median(f[k] for f in passes) for k in passes[0]}
        result[name] = {"median": median, "runs": passes}
        print(
            f"{name:8} {median['cpu_ms']:9.1f} {median['wall_ms']:9.1f}"
            f" {median['incidents_read']:10,.0f} {median['vm_steps']:12,.0f}"
        )
    if rounds:
        b, a = result["before"]["median"], result["after"]["median"]
        print(f"CPU ratio before/after: {b['cpu_ms'] / max(a['cpu_ms'], 1e-3):,.0f}x")
    print(
        f"put_policy on {args.store}, recomputing its {args.open * 2 // 3:,} triggered"
        f" incidents (medians of {len(puts)}): {put['cpu_ms']:,.0f} ms CPU"
        f" (+ {put['server_cpu_ms']:,.0f} ms of the PostgreSQL server),"
        f" {put['wall_ms']:,.0f} ms wall; a 1-row write beside it waited up to"
        f" {put['row_write_max_ms']:,.1f} ms (median {put['row_write_median_ms']:,.1f} ms,"
        f" {put['row_write_alone_median_ms']:,.1f} ms alone); load {put['load']:.1f}"
    )
    print(
        f"put_policy with the same waits: {unmoved['cpu_ms']:,.0f} ms CPU"
        f" (+ {unmoved['server_cpu_ms']:,.0f} ms server),"
        f" {unmoved['wall_ms']:,.0f} ms wall, 1-row write waited up to"
        f" {unmoved['row_write_max_ms']:,.1f} ms"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
