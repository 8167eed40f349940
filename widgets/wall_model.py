"""What the wall shows, computed from the App's incidents: pure, no Textual.

The wall keeps no history of its own: "new P1" and "new breach" are facts of the incidents
at ``now`` (a P1 still unacknowledged within ``NEW_WINDOW`` of its creation; an active clock
whose due time passed within ``NEW_WINDOW``), so a wall restarted mid-incident shows the same
alarms, and nothing it holds grows with time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.domain import durations
from console.domain.models import Priority, Status
from console.domain.rows import IncidentRow
from console.domain.sla import SlaClock, SlaPolicy, SlaState, active_clock
from widgets.queue_model import SlaInfo, sort_key

NEW_WINDOW = timedelta(minutes=15)
"""How long a new P1 or a new breach is announced on the banner."""
PAGE_SECONDS = 8
"""The list of the rest turns a page this often (by the app clock)."""
NEW_P1 = "!! NEW P1 !!"
BREACHED = "BREACHED"


@dataclass(frozen=True, slots=True)
class WallCounts:
    open_p1: int
    open_p2: int
    unacknowledged: int
    breached: int


def is_new_p1(incident: IncidentRow, now: datetime) -> bool:
    return (
        incident.is_open
        and incident.priority == Priority.P1
        and incident.acknowledged_at is None
        and now - incident.created_at < NEW_WINDOW
    )


def is_breached(incident: IncidentRow, info: SlaInfo | None, now: datetime) -> bool:
    return incident.is_open and info is not None and info.state_at(now) == SlaState.BREACHED


@dataclass(frozen=True, slots=True)
class WallOrder:
    """The open incidents in wall order, with what only a change can move counted once.

    Ordering and counting every open incident is a walk of all of them (100,000 on a big
    estate); the wall does it when incidents change, not every second. What the clock moves
    is read from the tracker (``breached``) or from the few rows it can concern: a P1 stops
    being new as time passes but only a change (a new incident, a new priority, a reopen)
    makes one new, so the new P1s are among ``rows[:new_p1_prefix]``. Likewise an incident
    breaches by time alone only at an instant the tracker reports (the wall orders again
    then), so the new breaches are among ``recent_breaches``.
    """

    rows: list[IncidentRow]
    at: datetime
    """When it was ordered (a clock set back orders again)."""
    new_p1_prefix: int
    recent_breaches: list[IncidentRow]
    """Breached within ``NEW_WINDOW`` when ordered, the latest breach first."""
    open_p1: int
    open_p2: int
    unacknowledged: int


def ordered(
    incidents: Iterable[IncidentRow], info: Mapping[int, SlaInfo], now: datetime
) -> WallOrder:
    """Open incidents, most urgent first: new P1s (nobody has answered them yet), then the
    queue's urgency order (breached, then priority, then SLA time left)."""
    open_ = [i for i in incidents if i.is_open]
    p1 = p2 = unacked = new = 0
    for incident in open_:
        if incident.priority == Priority.P1:
            p1 += 1
            new += is_new_p1(incident, now)
        elif incident.priority == Priority.P2:
            p2 += 1
        if incident.status == Status.TRIGGERED:
            unacked += 1
    open_.sort(key=lambda i: (not is_new_p1(i, now), sort_key(i, info.get(i.id), "urgency", now)))
    recent = []  # in wall order, so the most urgent comes first among equal breach times
    for incident in open_:
        clock = info.get(incident.id)
        if clock is not None and clock.due is not None and now - clock.due < NEW_WINDOW:
            if is_breached(incident, clock, now):
                recent.append((clock.due, incident))
    recent.sort(key=lambda pair: pair[0], reverse=True)
    breaches = [incident for _, incident in recent]
    return WallOrder(open_, now, new, breaches, p1, p2, unacked)


def counts(order: WallOrder, breached: int) -> WallCounts:
    """The tiles; ``breached`` is the tracker's count of open incidents breached now."""
    return WallCounts(order.open_p1, order.open_p2, order.unacknowledged, breached)


def new_p1s(order: WallOrder, now: datetime) -> list[IncidentRow]:
    """The P1s nobody has answered yet, newest first."""
    rows = [i for i in order.rows[: order.new_p1_prefix] if is_new_p1(i, now)]
    return sorted(rows, key=lambda i: i.created_at, reverse=True)


def new_breaches(order: WallOrder, info: Mapping[int, SlaInfo], now: datetime) -> list[IncidentRow]:
    """The incidents that breached within ``NEW_WINDOW``, the latest first."""
    return [
        incident
        for incident in order.recent_breaches
        if is_breached(incident, clock := info.get(incident.id), now)
        and clock is not None
        and clock.due is not None
        and now - clock.due < NEW_WINDOW
    ]


def clock_of(incident: IncidentRow, now: datetime, policy: SlaPolicy) -> SlaClock:
    return active_clock(incident, now, policy)


def countdown(clock: SlaClock) -> str:
    """The big countdown in characters the Digits font has: ``12:34``, ``3:05:12``, ``-0:42``.

    Minutes and seconds under an hour, hours:minutes:seconds above; a breached clock shows
    how late it is with a minus. A paused clock shows dashes (its state is written next to it).
    """
    if clock.state == SlaState.PAUSED:
        return "--:--"
    seconds = int(clock.remaining.total_seconds())
    sign = "-" if seconds < 0 else ""
    return sign + durations.digits(abs(seconds))


def mtta_digits(seconds: float | None) -> tuple[str, str]:
    """MTTA as Digits text and its unit: ``("12.2", "minutes")`` or ``("1.7", "hours")``.

    One decimal keeps it narrow enough for a tile on an 80-column wall.
    """
    if seconds is None:
        return "--", "no acks yet"
    minutes = seconds / 60
    if minutes < 99.95:
        return f"{minutes:.1f}", "minutes"
    return f"{minutes / 60:.1f}", "hours"


PAGE_SECONDS_MAX = 30
SECONDS_PER_ROW = 1.5
"""Reading time a page gets per row on it: a tall wall shows more rows, so it dwells longer."""


def page_seconds(size: int) -> int:
    """How long a page of ``size`` rows stays up: ``PAGE_SECONDS`` for a handful of rows,
    more for a tall page (up to ``PAGE_SECONDS_MAX``), so each row gets about as long."""
    return max(PAGE_SECONDS, min(PAGE_SECONDS_MAX, round(size * SECONDS_PER_ROW)))


def page_of(total: int, size: int, now: datetime) -> tuple[int, int]:
    """(page index, page count) for ``total`` rows in pages of ``size`` at ``now``.

    The page follows the clock (one page every ``page_seconds(size)``), so the wall needs no
    timer of its own and a snapshot at a frozen time always shows the same page.
    """
    if size <= 0 or total <= 0:
        return 0, 1
    pages = -(-total // size)
    return int(now.timestamp() // page_seconds(size)) % pages, pages
