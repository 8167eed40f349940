"""Benchmark of the history query (``Backend.page_incidents``) on a 1,000,000-incident store.

The history view (``H`` in the console) pages through every incident, resolved ones too, with
the queue's filter language. Each figure is the median time for one page of 50, parsed into
``Incident`` models, through the real ``SqliteBackend``:

- the first page (newest first) and a page half-way down (a cursor at the 500,000th
  incident): keyset paging costs the same deep down as at the top; the same page fetched
  with OFFSET (``list_incidents`` with ``offset``) is printed beside it for comparison;
- filters the language turns into SQL: a status, a service prefix, an assignee, a priority,
  a common word, and a word that matches nothing (the worst case: every row is read once,
  since free text cannot use an index);
- walking 20 consecutive pages.

The database is the one ``bench/store.py`` builds (same generator, same cache under
``bench/.data/``, keyed by the schema version).

    python bench/history.py                    # 1,000,000 incidents (builds the cache once)
    python bench/history.py --incidents 100000 # quicker

Prints the figures and writes them as JSON to ``bench/results/history.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from store import build  # noqa: E402  (bench/store.py: the same 1M database)

from backends.sqlite.store import MIGRATIONS, SqliteBackend  # noqa: E402
from console.domain.models import IncidentQuery  # noqa: E402
from console.domain.query import parse  # noqa: E402

PAGE = 50
FILTERS = {
    "all": "status:all",
    "resolved": "status:resolved",
    "service prefix": "status:all svc:pay",
    "assignee + priority": "status:all @alice p1",
    "common word": "status:all disk",
    "word matching nothing": "status:all zebra",
}


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered) * 1000, 2),
        "min": round(ordered[0] * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "runs": len(ordered),
    }


async def timed(runs: int, call: Any) -> dict[str, float]:
    await call()  # warm the page cache and the statement cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return _ms(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "history.json")
    args = parser.parse_args()
    open_count = min(args.open, args.incidents)
    data = HERE / ".data"
    data.mkdir(exist_ok=True)
    golden = data / f"store-{args.incidents}-{open_count}-v{len(MIGRATIONS)}.db"
    older = sorted(data.glob(f"store-{args.incidents}-{open_count}-v*.db"))
    if not golden.exists() and older:
        # a cache from an older schema: migrate it (what an upgrade does to a team's file)
        started = time.perf_counter()
        async with SqliteBackend(older[-1]):
            pass
        older[-1].rename(golden)
        print(
            f"migrated {older[-1].name} -> {golden.name} in {time.perf_counter() - started:.1f} s"
        )
    if not golden.exists():
        print(f"building {golden.name}: {args.incidents:,} incidents, {open_count:,} open")
        print(f"  built in {await build(golden, args.incidents, open_count):.1f} s")
    now = datetime.now(UTC)
    results: dict[str, Any] = {
        "incidents": args.incidents,
        "page": PAGE,
        "database_mb": round(golden.stat().st_size / 1e6, 1),
        "python": sys.version.split()[0],
        "at": now.isoformat(timespec="seconds"),
    }
    async with SqliteBackend(golden) as store:
        everything = IncidentQuery(statuses=(), limit=PAGE)
        middle = str(args.incidents // 2)

        async def first() -> None:
            page = await store.page_incidents(everything)
            assert len(page.incidents) == PAGE and page.next is not None

        async def deep() -> None:
            page = await store.page_incidents(everything, middle)
            assert len(page.incidents) == PAGE

        async def deep_offset() -> None:
            query = everything.model_copy(update={"sort": "age", "offset": args.incidents // 2})
            assert len(await store.list_incidents(query)) == PAGE

        results["first_page"] = await timed(args.runs, first)
        results["deep_page_keyset"] = await timed(args.runs, deep)
        results["deep_page_offset"] = await timed(max(3, args.runs // 3), deep_offset)
        print(
            f"page of {PAGE} (every status, newest first): first {results['first_page']['median']}"
            f" ms, half-way down {results['deep_page_keyset']['median']} ms "
            f"(the same page by OFFSET: {results['deep_page_offset']['median']} ms)"
        )

        async def walk() -> None:
            after = None
            for _ in range(20):
                page = await store.page_incidents(everything, after)
                after = page.next

        results["walk_20_pages"] = await timed(max(3, args.runs // 3), walk)
        print(f"20 consecutive pages: {results['walk_20_pages']['median']} ms")

        results["filters"] = {}
        for name, text in FILTERS.items():
            query = parse(text).to_query("alice", now).model_copy(update={"limit": PAGE})

            async def one(query: IncidentQuery = query) -> None:
                await store.page_incidents(query)

            figure = await timed(max(3, args.runs // 3), one)
            found = len((await store.page_incidents(query)).incidents)
            results["filters"][name] = {**figure, "filter": text, "rows": found}
            print(f"  first page of {text!r}: {figure['median']} ms ({found} rows)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
