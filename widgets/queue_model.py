"""The queue's data behind the screen: SLA states that move with time, filter, sort, order.

Pure (no Textual) so it can be tested and benchmarked on its own. Two parts:

- ``SlaTracker`` knows, for every incident the console holds, when its active SLA clock
  turns to warning and when it breaches. A heap of those instants means a clock tick only
  touches the incidents whose state actually changes, never all ten thousand.
- ``QueueModel`` keeps the rows that pass the filter in sort order, as a sorted list of
  precomputed keys (each ending in the incident id), so a change is a bisect out and a bisect
  in, and the row of an incident is a bisect, not a scan.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from console.domain.models import OPEN_STATUSES, Incident, Priority, SortKey, Status
from console.domain.order import sort_key as order_key
from console.domain.order import sort_row
from console.domain.query import Filter
from console.domain.rows import IncidentRow, row
from console.domain.sla import (
    SlaFacts,
    SlaPolicy,
    SlaState,
    active_kind,
    breach_due,
    clock_bounds,
    due_time,
    sla_clock,
)

SORTS: tuple[SortKey, ...] = ("urgency", "priority", "age", "updated")
"""The sorts the ``s`` key cycles through (the store has ``sla`` too)."""


@dataclass(frozen=True, slots=True)
class SlaInfo:
    """The active clock of one incident as far as time alone can change it."""

    state: SlaState
    """The state when computed; ``RUNNING``/``WARNING`` move on at ``warn_at``/``due``."""
    due: datetime | None
    warn_at: datetime | None
    version: int

    def state_at(self, now: datetime) -> SlaState:
        if self.state in (SlaState.RUNNING, SlaState.WARNING):
            if self.due is not None and now >= self.due:
                return SlaState.BREACHED
            if self.warn_at is not None and now >= self.warn_at:
                return SlaState.WARNING
        return self.state


class Tracked(SlaFacts, Protocol):
    """What the tracker reads of an incident (an ``Incident`` or an ``IncidentRow``)."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...


def sla_info(incident: Tracked, now: datetime, policy: SlaPolicy) -> SlaInfo:
    """Compute the active clock once; later states follow from ``warn_at`` and ``due``.

    ``due`` is ``breach_due`` (the one definition of breached, also the store's sort due),
    so a response acknowledged late stays ``BREACHED`` here, in the counts and the filter.
    """
    kind = active_kind(incident) if incident.is_open else "resolution"
    clock = sla_clock(incident, now, policy, kind)
    warn_at = None
    if clock.state == SlaState.RUNNING:
        start, _ = clock_bounds(incident, kind)
        warn_at = due_time(
            start, policy.warning_after(clock.target), incident.pauses, policy.calendar, now
        )
    due = breach_due(incident, policy, now)
    state = clock.state
    if due is not None and due <= now:
        state = SlaState.BREACHED
    return SlaInfo(state=state, due=due, warn_at=warn_at, version=incident.version)


class SlaTracker:
    """SLA states of every incident the console holds, advanced by a heap of instants.

    Each incident has at most one live instant (``_next``): the next moment its state moves
    by time alone (warning, then breach), and one heap entry (at ``_queued``), never later
    than that instant. A new version whose instant did not move (a note, an alert repeat, a
    reassignment) or moved later (an acknowledge: the response clock's warning gives way to
    the resolution clock's) adds nothing: its entry comes due first and moves on to the live
    instant then. Only an instant that moved earlier (a higher priority) queues a new entry;
    the old one is skipped when it comes due and dropped when the heap is compacted.
    """

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.info: dict[int, SlaInfo] = {}
        self.breached: set[int] = set()
        """Open incidents whose active clock is breached now."""
        self._events: list[tuple[datetime, int]] = []
        self._next: dict[int, datetime] = {}
        """The next instant each incident's state moves by time alone."""
        self._queued: dict[int, datetime] = {}
        """The time of each incident's heap entry (``<=`` its ``_next``)."""
        self._open: set[int] = set()

    def state(self, incident_id: int, now: datetime) -> SlaState:
        info = self.info.get(incident_id)
        return info.state_at(now) if info else SlaState.RUNNING

    def _schedule(self, incident_id: int, info: SlaInfo, now: datetime) -> None:
        state = info.state_at(now)
        at = None
        if state == SlaState.RUNNING and info.warn_at is not None and info.warn_at > now:
            at = info.warn_at
        elif state in (SlaState.RUNNING, SlaState.WARNING) and info.due is not None:
            at = info.due if info.due > now else None
        if at is None:
            self._next.pop(incident_id, None)  # its entry finds nothing to do when due
            return
        self._next[incident_id] = at
        queued = self._queued.get(incident_id)
        if queued is None or at < queued:
            self._queued[incident_id] = at
            heapq.heappush(self._events, (at, incident_id))

    def update(self, incidents: Iterable[Tracked], now: datetime) -> list[int]:
        """Take new versions of incidents; return the ids that turned breached by this."""
        newly: list[int] = []
        for incident in incidents:
            before = self.info.get(incident.id)
            was_breached = incident.id in self.breached
            info = sla_info(incident, now, self.policy)
            self.info[incident.id] = info
            self._schedule(incident.id, info, now)
            if incident.is_open:
                self._open.add(incident.id)
            else:
                self._open.discard(incident.id)
            breached = incident.is_open and info.state == SlaState.BREACHED
            if breached:
                self.breached.add(incident.id)
                if before is not None and not was_breached:
                    newly.append(incident.id)
            else:
                self.breached.discard(incident.id)
        if len(self._events) > 2 * len(self._queued) + 256:
            self._compact()
        return newly

    def _compact(self) -> None:
        """Rebuild the heap from the queued entries only (drop the stale ones)."""
        events = [(at, incident_id) for incident_id, at in self._queued.items()]
        heapq.heapify(events)
        self._events = events

    def forget(self, ids: Iterable[int]) -> None:
        for incident_id in ids:
            self.info.pop(incident_id, None)
            self._next.pop(incident_id, None)
            self._queued.pop(incident_id, None)
            self.breached.discard(incident_id)
            self._open.discard(incident_id)

    def advance(self, now: datetime) -> tuple[set[int], list[int]]:
        """Move to ``now``: the ids whose state changed, and those that just breached."""
        changed: set[int] = set()
        newly: list[int] = []
        while self._events and self._events[0][0] <= now:
            at, incident_id = heapq.heappop(self._events)
            if self._queued.get(incident_id) != at:
                continue  # stale: a newer version queued an earlier entry
            del self._queued[incident_id]
            live = self._next.get(incident_id)
            if live is None:
                continue  # a newer version ended this incident's clock
            if live > at:
                # a newer version moved the instant later: the entry moves on to it
                self._queued[incident_id] = live
                heapq.heappush(self._events, (live, incident_id))
                continue
            del self._next[incident_id]
            info = self.info[incident_id]
            changed.add(incident_id)
            if (
                incident_id in self._open
                and incident_id not in self.breached
                and info.state_at(now) == SlaState.BREACHED
            ):
                self.breached.add(incident_id)
                newly.append(incident_id)
            self._schedule(incident_id, info, now)  # the breach after the warning
        return changed, newly


SortTuple = tuple[float, ...]


def sort_key(
    incident: IncidentRow, info: SlaInfo | None, sort: SortKey, now: datetime
) -> SortTuple:
    """The domain's key for ``sort`` (``console.domain.order``), then the incident id.

    The id comes last so ``QueueModel`` can read it back from a key; the due time is the
    one the store indexes (none while on hold or finished), so rows sort as the store does.
    """
    due = info.due if info is not None and incident.is_open else None
    return (*order_key(sort, sort_row(incident, due), now.timestamp()), incident.id)


@dataclass(frozen=True, slots=True)
class Counts:
    """The header line: open incidents per priority, unacknowledged, breached."""

    by_priority: dict[Priority, int]
    unacknowledged: int
    breached: int
    open: int


class QueueModel:
    """The rows of the queue: which incidents pass the filter, in which order."""

    def __init__(self, tracker: SlaTracker, me: str | None) -> None:
        self.tracker = tracker
        self.me = me
        self._incidents: dict[int, IncidentRow] = {}
        self._by_priority = dict.fromkeys(Priority, 0)
        self._unacknowledged = 0
        self._open = 0
        self.filter = Filter()
        self.sort: SortKey = "urgency"
        self._keys: dict[int, SortTuple] = {}
        self._order: list[SortTuple] = []
        self._generation = 0
        self.done: set[int] = set()
        """Ids of finished incidents held here (so they can be let go cheaply)."""

    # reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._order)

    @property
    def generation(self) -> int:
        """Bumps whenever the visible order may have changed (for render caches)."""
        return self._generation

    def id_at(self, index: int) -> int | None:
        if 0 <= index < len(self._order):
            return int(self._order[index][-1])  # the id, last in every key
        return None

    def ids(self, start: int = 0, stop: int | None = None) -> list[int]:
        return [int(key[-1]) for key in self._order[start:stop]]

    def index_of(self, incident_id: int | None) -> int | None:
        key = self._keys.get(incident_id) if incident_id is not None else None
        if key is None:
            return None
        index = bisect_left(self._order, key)
        return index if index < len(self._order) and self._order[index] == key else None

    def contains(self, incident_id: int) -> bool:
        return incident_id in self._keys

    @property
    def incidents(self) -> dict[int, IncidentRow]:
        """Every incident held here, by id, as compact rows (read-only: change it through
        ``upsert``, ``remove`` or by assigning a whole new dict, so the counts follow)."""
        return self._incidents

    @incidents.setter
    def incidents(self, incidents: dict[int, IncidentRow]) -> None:
        self._incidents = incidents
        self._by_priority = dict.fromkeys(Priority, 0)
        self._unacknowledged = self._open = 0
        for incident in incidents.values():
            self._count(incident, 1)

    def _count(self, incident: IncidentRow, sign: int) -> None:
        if incident.status in OPEN_STATUSES:
            self._open += sign
            self._by_priority[incident.priority] += sign
            if incident.status == Status.TRIGGERED:
                self._unacknowledged += sign

    def counts(self) -> Counts:
        """Kept as incidents come and go, so a change under an alert storm does not walk
        every incident held (100,000 of them) to redraw the header."""
        return Counts(
            dict(self._by_priority), self._unacknowledged, len(self.tracker.breached), self._open
        )

    # changing ----------------------------------------------------------------------------
    def _passes(self, incident: IncidentRow, now: datetime) -> bool:
        state = None
        if self.filter.breached or self.filter.breaching:
            state = self.tracker.state(incident.id, now)
        return self.filter.matches(incident, now, self.tracker.policy, self.me, sla_state=state)

    def _place(self, incident: IncidentRow, now: datetime) -> None:
        old = self._keys.pop(incident.id, None)
        if old is not None:
            index = bisect_left(self._order, old)
            if index < len(self._order) and self._order[index] == old:
                del self._order[index]
        if self._passes(incident, now):
            key = sort_key(incident, self.tracker.info.get(incident.id), self.sort, now)
            self._keys[incident.id] = key
            insort(self._order, key)

    def upsert(self, incidents: Iterable[Incident | IncidentRow], now: datetime) -> None:
        """New versions of incidents: each moves to its new place (or in / out of view)."""
        batch = [row(incident) for incident in incidents]
        for incident in batch:
            known = self._incidents.get(incident.id)
            if known is not None:
                self._count(known, -1)
            self._incidents[incident.id] = incident
            self._count(incident, 1)
            if incident.is_open:
                self.done.discard(incident.id)
            else:
                self.done.add(incident.id)
        if len(batch) > 200:
            self._merge(batch, now)
            return
        for incident in batch:
            self._place(incident, now)
        self._generation += 1

    def _merge(self, batch: list[IncidentRow], now: datetime) -> None:
        """A big batch (a page of the initial load): one pass out, one sort of two runs in.

        Appending the batch's sorted keys and sorting again costs a merge (the list is two
        sorted runs), not a full sort of everything the queue holds.
        """
        stale = {key for i in batch if (key := self._keys.pop(i.id, None)) is not None}
        if stale:
            self._order = [key for key in self._order if key not in stale]
        info = self.tracker.info
        fresh = []
        for incident in batch:
            if self._passes(incident, now):
                key = sort_key(incident, info.get(incident.id), self.sort, now)
                self._keys[incident.id] = key
                fresh.append(key)
        fresh.sort()
        self._order.extend(fresh)
        self._order.sort()
        self._generation += 1

    def remove(self, ids: Iterable[int]) -> None:
        for incident_id in ids:
            known = self._incidents.pop(incident_id, None)
            if known is not None:
                self._count(known, -1)
            self.done.discard(incident_id)
            old = self._keys.pop(incident_id, None)
            if old is not None:
                index = bisect_left(self._order, old)
                if index < len(self._order) and self._order[index] == old:
                    del self._order[index]
        self._generation += 1

    def retime(self, ids: Iterable[int], now: datetime) -> bool:
        """Incidents whose SLA state moved with time: re-key and re-filter only those."""
        moved = False
        for incident_id in ids:
            incident = self.incidents.get(incident_id)
            if incident is not None:
                self._place(incident, now)
                moved = True
        if self.filter.resolved_within is not None:
            # the recently-resolved window slides with time: drop what fell out of it
            stale = [i for i in self._keys if not self._passes(self.incidents[i], now)]
            if stale:
                self.remove_rows(stale)
                moved = True
        if moved:
            self._generation += 1
        return moved

    def remove_rows(self, ids: Iterable[int]) -> None:
        for incident_id in ids:
            old = self._keys.pop(incident_id, None)
            if old is not None:
                index = bisect_left(self._order, old)
                if index < len(self._order) and self._order[index] == old:
                    del self._order[index]

    def rebuild(self, now: datetime) -> None:
        """Filter and sort everything from scratch (a new filter or sort, a big batch)."""
        keys: dict[int, SortTuple] = {}
        info = self.tracker.info
        for incident in self.incidents.values():
            if self._passes(incident, now):
                keys[incident.id] = sort_key(incident, info.get(incident.id), self.sort, now)
        self._keys = keys
        self._order = sorted(keys.values())
        self._generation += 1

    def set_filter(self, new: Filter, now: datetime) -> None:
        self.filter = new
        self.rebuild(now)

    def set_sort(self, sort: SortKey, now: datetime) -> None:
        self.sort = sort
        self.rebuild(now)
