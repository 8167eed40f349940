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
steps; an index probe a few dozen). Medians of ``--rounds`` passes. Last, the price: one
``put_policy`` of that policy, which recomputes ``escalator_due`` of its triggered incidents.

    python bench/escalator.py               # 100,000 open
    python bench/escalator.py --open 10000

Prints the figures and writes JSON to ``bench/results/escalator.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
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


async def build(path: Path, clock: FrozenClock, open_count: int) -> SqliteBackend:
    store = await SqliteBackend(path, settings=Settings(db=path), clock=clock).open()
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "escalator.json")
    args = parser.parse_args()
    clock = FrozenClock(T0)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store = await build(Path(tmp) / "escalator.db", clock, args.open)
        print(f"  store built in {time.perf_counter() - started:.0f} s")
        try:
            clock.advance(timedelta(minutes=30))
            counting = Counting(store)
            escalator = Escalator(counting, clock)  # type: ignore[arg-type]
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for _ in range(args.rounds):
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
            # A policy written recomputes escalator_due of its triggered incidents, in the
            # write transaction (backends/common/due.py): the price of a pass reading nothing.
            cpu, wall = time.process_time(), time.perf_counter()
            await store.put_policy(POLICY)
            put = {
                "cpu_ms": (time.process_time() - cpu) * 1000,
                "wall_ms": (time.perf_counter() - wall) * 1000,
            }
        finally:
            await store.close()
    result: dict[str, Any] = {
        "open": args.open,
        "triggered": args.open * 2 // 3,
        "put_policy": put,
    }
    print(f"one escalator pass, {args.open:,} open ({args.open * 2 // 3:,} triggered), 0 due")
    print(f"{'':8} {'CPU ms':>9} {'loop ms':>9} {'incidents':>10} {'VM steps':>12}")
    for name, passes in runs.items():
        median = {k: statistics.median(f[k] for f in passes) for k in passes[0]}
        result[name] = {"median": median, "runs": passes}
        print(
            f"{name:8} {median['cpu_ms']:9.1f} {median['wall_ms']:9.1f}"
            f" {median['incidents_read']:10,.0f} {median['vm_steps']:12,.0f}"
        )
    b, a = result["before"]["median"], result["after"]["median"]
    print(f"CPU ratio before/after: {b['cpu_ms'] / max(a['cpu_ms'], 1e-3):,.0f}x")
    print(
        f"put_policy recomputing its {args.open * 2 // 3:,} triggered incidents:"
        f" {put['cpu_ms']:,.0f} ms CPU, {put['wall_ms']:,.0f} ms wall"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
