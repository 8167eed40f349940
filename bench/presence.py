"""How fast one console sees another's presence (two stores on one SQLite file).

Console A announces a new incident every round; the time until console B's presence watch
yields it is the latency a responder sees ("ines viewing" appearing on B's queue row).
Prints p50/p95/max and writes JSON (``--out``). The issue's target: within 1 s.

    python bench/presence.py [--rounds 40] [--out bench/presence.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from backends import capabilities
from backends.sqlite.store import SqliteBackend
from console.domain.presence import announcement


async def run(rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "presence.db"
        async with SqliteBackend(db) as a, SqliteBackend(db) as b:
            board_a, board_b = capabilities.presence(a), capabilities.presence(b)
            assert board_a is not None and board_b is not None
            seen: asyncio.Queue[tuple[float, set[int | None]]] = asyncio.Queue()

            async def follow() -> None:
                async for snapshot in board_b.watch_presence():
                    seen.put_nowait((time.perf_counter(), {p.incident_id for p in snapshot}))

            task = asyncio.create_task(follow())
            await seen.get()
            latencies = []
            for n in range(1, rounds + 1):
                started = time.perf_counter()
                await board_a.announce(announcement("a", "ines", a.clock.now(), incident_id=n))
                while True:
                    at, ids = await seen.get()
                    if n in ids:
                        latencies.append((at - started) * 1000)
                        break
                await asyncio.sleep(0.05 + (n % 7) * 0.03)  # vary the phase against the poll
            task.cancel()
    latencies.sort()
    return {
        "rounds": rounds,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("bench/presence.json"))
    args = parser.parse_args()
    figures = asyncio.run(run(args.rounds))
    print(
        f"presence A -> B over one SQLite file: p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms ({figures['rounds']} rounds)"
    )
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
