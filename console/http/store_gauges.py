"""The store's gauges on ``/metrics``, from a snapshot refreshed at most every few seconds.

Counting the open incidents by loading them made a scrape cost O(open incidents): 3.7 s at
20,000 open, and four scrapers slowed every other request. Now a scrape costs the same at
any size: it renders a snapshot taken by one aggregate query over the stored columns
(``backends.capabilities.Tally``; no incident is parsed). A scrape that finds the snapshot
older than ``refresh`` seconds starts one refresh in the background and still answers from
the snapshot it has, so scrapers never wait for the store and never pile queries on it:
however many scrape, the store is asked at most once per ``refresh``. Only the very first
scrape waits for the first snapshot.
"""

from __future__ import annotations

import asyncio
import time

from backends.base import BackendError
from backends.capabilities import OpenCount, Tally
from console.domain.clock import Clock
from console.domain.models import Priority, Status
from console.http.metrics import gauge


class StoreGauges:
    """``incidents_open`` and ``incidents_open_breached`` for one store."""

    def __init__(self, tally: Tally, clock: Clock, *, refresh: float = 5.0) -> None:
        self.tally = tally
        self.clock = clock
        self.refresh = refresh
        self.refreshes = 0
        """How many snapshots were taken (the tests and the bench read it)."""
        self.took = 0.0
        """Seconds the last snapshot's query took."""
        self._lines: list[str] | None = None
        self._taken = 0.0
        self._running: asyncio.Task[None] | None = None

    async def lines(self) -> list[str]:
        stale = self._lines is None or time.monotonic() - self._taken >= self.refresh
        if stale and (self._running is None or self._running.done()):
            self._running = asyncio.create_task(self._take(), name="metrics-snapshot")
        if self._lines is None:
            assert self._running is not None
            await asyncio.shield(self._running)
        assert self._lines is not None
        age = time.monotonic() - self._taken
        return [
            *self._lines,
            *gauge(
                "incidents_metrics_snapshot_age_seconds",
                "Age of the snapshot the incident gauges come from.",
                [({}, round(age, 3))],
            ),
            *gauge(
                "incidents_metrics_snapshot_seconds",
                "How long the query of the last snapshot took.",
                [({}, round(self.took, 4))],
            ),
            "# HELP incidents_metrics_snapshots_total Snapshots of the incident gauges taken.",
            "# TYPE incidents_metrics_snapshots_total counter",
            f"incidents_metrics_snapshots_total {self.refreshes}",
        ]

    async def _take(self) -> None:
        started = time.perf_counter()
        try:
            counts = await self.tally.open_counts(self.clock.now())
        except BackendError:
            if self._lines is None:
                raise  # the first scrape waits for this one: it answers 503
            return  # keep the last snapshot; the next scrape tries again
        self._lines = render(counts)
        self._taken = time.monotonic()
        self.took = time.perf_counter() - started
        self.refreshes += 1

    def close(self) -> None:
        if self._running is not None:
            self._running.cancel()


def render(counts: list[OpenCount]) -> list[str]:
    """Every priority and open status, zero when the store has none."""
    by: dict[tuple[str, str], int] = {
        (p.value, s.value): 0 for p in Priority for s in Status if s.is_open
    }
    breached: dict[str, int] = {p.value: 0 for p in Priority}
    for count in counts:
        by[(count.priority.value, count.status.value)] += count.open
        breached[count.priority.value] += count.breached
    lines = gauge(
        "incidents_open",
        "Open incidents by priority and status.",
        (({"priority": p, "status": s}, n) for (p, s), n in sorted(by.items())),
    )
    lines += gauge(
        "incidents_open_breached",
        "Open incidents that breached an SLA (response or resolution), by priority.",
        (({"priority": p}, n) for p, n in sorted(breached.items())),
    )
    return lines
