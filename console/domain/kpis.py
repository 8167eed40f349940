"""KPIs from incidents and their timelines: pure, no I/O, no Textual.

Every backend computes its ``stats()`` with :func:`compute_kpis`, so SQLite and the remote
server give the same numbers for the same data. Definitions (what a manager reads in the
report is exactly this):

Window
    ``[now - since, now]``. "In the window" means the event happened inside it.

MTTA (mean time to acknowledge)
    Over incidents *acknowledged* in the window: counted time from creation to the first
    acknowledgement. An incident resolved without an acknowledgement is acknowledged by the
    resolve (the lifecycle does this), so the page always ends.

MTTR (mean time to resolve)
    Over incidents whose *final* resolution is in the window (status resolved or closed now):
    counted time from creation to that resolution. A reopened incident is measured to its
    final resolution; the time it spent resolved before the reopen is a pause and does not
    count, and an incident reopened and still open is not in MTTR until it is resolved again.

Counted time
    Exactly the SLA engine's: ``console.domain.sla.counted`` with the incident's pauses (on hold,
    resolved-before-reopen) and the SLA business calendar, if one is configured. Hold time is
    therefore never part of MTTA or MTTR.

Median and p90
    The median is the middle value (the mean of the two middle ones for an even count); p90
    is the nearest-rank percentile: the ``ceil(0.9 * n)``-th smallest value.

First-call resolution
    Over incidents resolved in the window: resolved by the first assignee (the assignee at
    creation, else whoever first took it), never escalated, never reassigned from one person
    to another, and never reopened (a reopen means the first fix did not hold).

SLA compliance per priority
    Per clock (response, resolution) and the incident's current priority: a clock counts
    once it is decided in the window: it stopped in the window (met if counted time <= the
    target, else breached), or it still runs and passed its due time inside the window
    (breached). Cancelled incidents have no resolution outcome, and a response outcome only
    if they were acknowledged before the cancel.

Counts
    Incidents created in the window per service and per UTC day; resolved ones per day.
    ``open_now`` / ``open_breached``: open incidents at the end of the window, and those of
    them breached then (``console.domain.sla.is_breached``, the console's one definition).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from console.domain import durations
from console.domain.limits import MAX_WINDOW
from console.domain.models import EntryKind, Incident, Priority, Service, Status, TimelineEntry, utc
from console.domain.sla import (
    BusinessCalendar,
    ClockKind,
    SlaPolicy,
    clock_bounds,
    counted,
    is_breached,
    sla_clock,
)
from console.domain.text import spreadsheet_cell

if TYPE_CHECKING:
    pass


class ReportError(ValueError):
    """Invalid report input (a window that cannot be read, an unknown filter)."""


_WINDOW = re.compile(r"^\s*([0-9]+)\s*([hd])\s*$", re.IGNORECASE)


def parse_window(text: str) -> timedelta:
    """``"24h"`` / ``"7d"`` / ``"30d"`` (any whole number of hours or days) -> timedelta."""
    match = _WINDOW.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ReportError(
            f"cannot read the window {text!r}: give a whole number of hours or days, "
            "e.g. 24h, 7d or 30d"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    hours = amount if unit == "h" else amount * 24
    if hours > MAX_WINDOW.total_seconds() // 3600:
        raise ReportError(f"the window {text.strip()!r} is longer than {MAX_WINDOW.days} days")
    return timedelta(hours=hours)


def stats_window(text: str) -> timedelta:
    """A window as the API takes it: ``24h`` / ``7d`` or a whole number of seconds.

    Raises ``ReportError`` (the server answers 422) when it cannot be read.
    """
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and int(text) > 0:
        if int(text) > MAX_WINDOW.total_seconds():
            raise ReportError(f"the window {text!r} is longer than {MAX_WINDOW.days} days")
        return timedelta(seconds=int(text))
    try:
        return parse_window(text)
    except ReportError as exc:
        if str(exc).startswith("cannot read"):
            raise ReportError(f"{exc}, or a number of seconds") from None
        raise


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DurationStats(_Frozen):
    """Mean, median and p90 of a set of durations, in seconds (``None`` when empty)."""

    count: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class FirstCall(_Frozen):
    resolved: int = 0
    """Incidents resolved in the window (the base of the share)."""
    first_call: int = 0
    share: float | None = None


class SlaOutcome(_Frozen):
    met: int = 0
    breached: int = 0
    share: float | None = None
    """``met / (met + breached)``; ``None`` when no clock was decided."""


class PrioritySla(_Frozen):
    priority: Priority
    response: SlaOutcome
    resolution: SlaOutcome


class ServiceCount(_Frozen):
    service: str
    created: int
    resolved: int


class DayCount(_Frozen):
    day: date
    created: int
    resolved: int


class Kpis(_Frozen):
    """The KPI report of one window; serialises to the same JSON from every backend."""

    since: str
    """The window, e.g. ``7d``."""
    start: datetime
    end: datetime
    service: str | None = None
    team: str | None = None
    created: int = 0
    acknowledged: int = 0
    resolved: int = 0
    reopened: int = 0
    """Incidents resolved in the window that had been reopened at least once."""
    open_now: int = 0
    open_breached: int = 0
    """Open incidents breached at the end of the window (``console.domain.sla.is_breached``,
    the definition the console's header and ``/metrics`` count)."""
    mtta: DurationStats = DurationStats()
    mttr: DurationStats = DurationStats()
    first_call: FirstCall = FirstCall()
    sla: tuple[PrioritySla, ...] = ()
    per_service: tuple[ServiceCount, ...] = ()
    per_day: tuple[DayCount, ...] = ()
    with_change: int = 0
    """Incidents created in the window that had a change on their service (or a service it
    depends on) in the hour before they started (``console.domain.changes``)."""
    with_change_share: float | None = None
    """``with_change`` over ``created``."""


# ---------------------------------------------------------------------------------------------
# numbers


def _round(seconds: float) -> float:
    return round(seconds, 3)


def duration_stats(values: Sequence[timedelta]) -> DurationStats:
    """Mean, median and nearest-rank p90 of ``values``, in seconds."""
    if not values:
        return DurationStats()
    seconds = sorted(v.total_seconds() for v in values)
    rank = math.ceil(0.9 * len(seconds))
    return DurationStats(
        count=len(seconds),
        mean=_round(statistics.fmean(seconds)),
        median=_round(statistics.median(seconds)),
        p90=_round(seconds[rank - 1]),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def time_to_acknowledge(incident: Incident, calendar: BusinessCalendar | None) -> timedelta | None:
    if incident.acknowledged_at is None:
        return None
    return counted(incident.created_at, incident.acknowledged_at, incident.pauses, calendar)


def time_to_resolve(incident: Incident, calendar: BusinessCalendar | None) -> timedelta | None:
    if incident.resolved_at is None or incident.status not in (Status.RESOLVED, Status.CLOSED):
        return None
    return counted(incident.created_at, incident.resolved_at, incident.pauses, calendar)


def mtta(
    incidents: Iterable[Incident],
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar | None = None,
) -> DurationStats:
    """MTTA over incidents acknowledged in ``[start, end]`` (the wall's "MTTA today")."""
    start, end = utc(start), utc(end)
    values = [
        took
        for incident in incidents
        if incident.acknowledged_at is not None and start <= incident.acknowledged_at <= end
        if (took := time_to_acknowledge(incident, calendar)) is not None
    ]
    return duration_stats(values)


def first_assignee(incident: Incident, timeline: Sequence[TimelineEntry]) -> str | None:
    """Who first owned the incident: the assignee at creation, else whoever first took it."""
    for entry in timeline:
        if entry.kind == EntryKind.CREATED and entry.data.get("assignee"):
            return str(entry.data["assignee"])
        if entry.kind == EntryKind.REASSIGNED and entry.data.get("to"):
            return str(entry.data["to"])
        if entry.kind == EntryKind.ACKNOWLEDGED:
            return entry.actor
    return None


def resolved_on_first_call(incident: Incident, timeline: Sequence[TimelineEntry]) -> bool:
    """Resolved by the first assignee, with no escalation, reassignment or reopen."""
    if incident.status not in (Status.RESOLVED, Status.CLOSED) or incident.reopen_count:
        return False
    resolver: str | None = None
    for entry in timeline:
        if entry.kind in (EntryKind.ESCALATED, EntryKind.REOPENED, EntryKind.MERGED):
            return False
        if entry.kind == EntryKind.REASSIGNED and entry.data.get("from"):
            return False
        if entry.kind == EntryKind.RESOLVED:
            resolver = entry.actor
    first = first_assignee(incident, timeline)
    return first is not None and resolver == first


def _clock_outcome(
    incident: Incident,
    kind: ClockKind,
    start: datetime,
    end: datetime,
    policy: SlaPolicy,
) -> bool | None:
    """True (met), False (breached) or None (not decided in the window)."""
    if incident.status == Status.CANCELLED and (
        kind == "resolution" or incident.acknowledged_at is None
    ):
        # A cancelled incident was not a real one: only a response that really happened
        # (an acknowledgement before the cancel) is an SLA outcome.
        return None
    _, stop = clock_bounds(incident, kind)
    clock = sla_clock(incident, end, policy, kind)
    if stop is not None:
        if not start <= stop <= end:
            return None
        return clock.used <= clock.target
    if clock.used < clock.target:
        return None
    # Still running and past its target: decided (breached) when it crossed the due time.
    due = clock.due
    return False if due is None or start <= due <= end else None


def in_scope(
    incident: Incident,
    *,
    service: str | None,
    team_services: frozenset[str] | None,
) -> bool:
    if service is not None and incident.service != service:
        return False
    return team_services is None or incident.service in team_services


def team_services(services: Iterable[Service], team: str | None) -> frozenset[str] | None:
    if team is None:
        return None
    return frozenset(s.id for s in services if s.team == team)


def compute_kpis(
    incidents: Iterable[Incident],
    timelines: Mapping[int, Sequence[TimelineEntry]],
    *,
    since: timedelta,
    now: datetime,
    policy: SlaPolicy | None = None,
    services: Iterable[Service] = (),
    service: str | None = None,
    team: str | None = None,
    changed_before: Callable[[Incident], bool] | None = None,
) -> Kpis:
    """The KPI report for ``[now - since, now]`` (see the module docstring for definitions).

    ``changed_before(incident)`` says whether a change preceded it (the store builds it with
    ``console.domain.changes.had_change_before`` over its change events); without it the
    count is 0.

    ``incidents`` may include more than the window needs (the function picks); timelines
    are needed for the incidents resolved in the window (first-call resolution).
    """
    policy = policy or SlaPolicy()
    calendar = policy.calendar
    end = utc(now)
    start = end - since
    scope_team = team_services(services, team)
    chosen = sorted(
        (i for i in incidents if in_scope(i, service=service, team_services=scope_team)),
        key=lambda i: i.id,
    )

    created = [i for i in chosen if start <= i.created_at <= end]
    acked = [i for i in chosen if i.acknowledged_at and start <= i.acknowledged_at <= end]
    resolved = [
        i
        for i in chosen
        if i.status in (Status.RESOLVED, Status.CLOSED)
        and i.resolved_at is not None
        and start <= i.resolved_at <= end
    ]

    mtta_values = [t for i in acked if (t := time_to_acknowledge(i, calendar)) is not None]
    mttr_values = [t for i in resolved if (t := time_to_resolve(i, calendar)) is not None]
    first_calls = sum(1 for i in resolved if resolved_on_first_call(i, timelines.get(i.id, ())))

    sla_rows: list[PrioritySla] = []
    for priority in Priority:
        tallies: dict[ClockKind, Counter[bool]] = {"response": Counter(), "resolution": Counter()}
        for incident in chosen:
            if incident.priority != priority:
                continue
            for kind in ("response", "resolution"):
                outcome = _clock_outcome(incident, kind, start, end, policy)
                if outcome is not None:
                    tallies[kind][outcome] += 1
        outcomes = {
            kind: SlaOutcome(
                met=tally[True],
                breached=tally[False],
                share=_share(tally[True], tally[True] + tally[False]),
            )
            for kind, tally in tallies.items()
        }
        sla_rows.append(
            PrioritySla(
                priority=priority,
                response=outcomes["response"],
                resolution=outcomes["resolution"],
            )
        )

    with_change = sum(1 for i in created if changed_before(i)) if changed_before else 0

    created_by_service = Counter(i.service for i in created)
    resolved_by_service = Counter(i.service for i in resolved)
    per_service = tuple(
        ServiceCount(
            service=name,
            created=created_by_service[name],
            resolved=resolved_by_service[name],
        )
        for name in sorted(
            set(created_by_service) | set(resolved_by_service),
            key=lambda n: (-created_by_service[n], -resolved_by_service[n], n),
        )
    )

    created_by_day = Counter(i.created_at.date() for i in created)
    resolved_by_day = Counter(i.resolved_at.date() for i in resolved if i.resolved_at)
    per_day: list[DayCount] = []
    day = start.date()
    while day <= end.date():
        per_day.append(
            DayCount(day=day, created=created_by_day[day], resolved=resolved_by_day[day])
        )
        day += timedelta(days=1)

    return Kpis(
        since=durations.window(since),
        start=start,
        end=end,
        service=service,
        team=team,
        created=len(created),
        acknowledged=len(acked),
        resolved=len(resolved),
        reopened=sum(1 for i in resolved if i.reopen_count),
        open_now=sum(1 for i in chosen if i.is_open),
        open_breached=sum(1 for i in chosen if is_breached(i, end, policy)),
        mtta=duration_stats(mtta_values),
        mttr=duration_stats(mttr_values),
        first_call=FirstCall(
            resolved=len(resolved),
            first_call=first_calls,
            share=_share(first_calls, len(resolved)),
        ),
        sla=tuple(sla_rows),
        per_service=per_service,
        per_day=tuple(per_day),
        with_change=with_change,
        with_change_share=_share(with_change, len(created)),
    )


# ---------------------------------------------------------------------------------------------
# presentation (shared by the CLI and the reports screen)


def format_share(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def summary_rows(kpis: Kpis) -> list[tuple[str, str, str, str, str]]:
    """(measure, count, mean, median, p90) rows of the headline table."""
    rows = []
    for name, stats in (("MTTA", kpis.mtta), ("MTTR", kpis.mttr)):
        rows.append(
            (
                name,
                str(stats.count),
                durations.elapsed(stats.mean),
                durations.elapsed(stats.median),
                durations.elapsed(stats.p90),
            )
        )
    return rows


def sla_rows(kpis: Kpis) -> list[tuple[str, str, str]]:
    """(priority, response, resolution) with ``met/decided (share)`` per clock."""

    def cell(outcome: SlaOutcome) -> str:
        decided = outcome.met + outcome.breached
        if not decided:
            return "-"
        return f"{outcome.met}/{decided} {format_share(outcome.share)}"

    return [(row.priority.value, cell(row.response), cell(row.resolution)) for row in kpis.sla]


def render_table(kpis: Kpis) -> str:
    """The plain-text report ``incidents report`` prints."""
    scope = []
    if kpis.service:
        scope.append(f"service {kpis.service}")
    if kpis.team:
        scope.append(f"team {kpis.team}")
    lines = [
        f"KPIs for the last {kpis.since} "
        f"({kpis.start:%Y-%m-%d %H:%M} to {kpis.end:%Y-%m-%d %H:%M} UTC)"
        + (f", {', '.join(scope)}" if scope else ""),
        "",
        f"created {kpis.created}   acknowledged {kpis.acknowledged}   resolved "
        f"{kpis.resolved}   reopened {kpis.reopened}   open now {kpis.open_now}"
        f"   breached now {kpis.open_breached}",
        "",
    ]
    lines += _columns(("", "count", "mean", "median", "p90"), summary_rows(kpis))
    fc = kpis.first_call
    lines += [
        "",
        f"first-call resolution: {fc.first_call}/{fc.resolved} {format_share(fc.share)}",
        f"with a change in the prior hour: {kpis.with_change}/{kpis.created} "
        f"{format_share(kpis.with_change_share)}",
        "",
        "SLA compliance (met/decided)",
    ]
    lines += _columns(("priority", "response", "resolution"), sla_rows(kpis))
    if kpis.per_service:
        lines += ["", "per service"]
        lines += _columns(
            ("service", "created", "resolved"),
            [(s.service, str(s.created), str(s.resolved)) for s in kpis.per_service],
        )
    lines += ["", "per day (UTC)"]
    lines += _columns(
        ("day", "created", "resolved"),
        [(d.day.isoformat(), str(d.created), str(d.resolved)) for d in kpis.per_day],
    )
    return "\n".join(lines) + "\n"


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(v).rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(r) for r in rows)]


def render_json(kpis: Kpis) -> str:
    return json.dumps(kpis.model_dump(mode="json"), indent=2) + "\n"


class _SafeWriter:
    """A CSV writer whose text cells cannot start a spreadsheet formula (service names
    come from whoever configured the directory or sent an alert)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([spreadsheet_cell(cell) for cell in row])


def render_csv(kpis: Kpis) -> str:
    """One row per number: ``section,key,metric,value`` (easy to load in a spreadsheet)."""
    out = io.StringIO()
    writer = _SafeWriter(csv.writer(out, lineterminator="\n"))
    writer.writerow(["section", "key", "metric", "value"])
    for name in ("created", "acknowledged", "resolved", "reopened", "open_now", "open_breached"):
        writer.writerow(["totals", "", name, getattr(kpis, name)])
    for name, stats in (("mtta", kpis.mtta), ("mttr", kpis.mttr)):
        for metric in ("count", "mean", "median", "p90"):
            value = getattr(stats, metric)
            writer.writerow([name, "seconds", metric, "" if value is None else value])
    fc = kpis.first_call
    writer.writerow(["first_call", "", "resolved", fc.resolved])
    writer.writerow(["first_call", "", "first_call", fc.first_call])
    writer.writerow(["first_call", "", "share", "" if fc.share is None else fc.share])
    share = kpis.with_change_share
    writer.writerow(["with_change", "", "incidents", kpis.with_change])
    writer.writerow(["with_change", "", "share", "" if share is None else share])
    for row in kpis.sla:
        for clock in ("response", "resolution"):
            outcome: SlaOutcome = getattr(row, clock)
            for metric in ("met", "breached", "share"):
                value = getattr(outcome, metric)
                writer.writerow(
                    [f"sla_{clock}", row.priority.value, metric, "" if value is None else value]
                )
    for s in kpis.per_service:
        writer.writerow(["service", s.service, "created", s.created])
        writer.writerow(["service", s.service, "resolved", s.resolved])
    for d in kpis.per_day:
        writer.writerow(["day", d.day.isoformat(), "created", d.created])
        writer.writerow(["day", d.day.isoformat(), "resolved", d.resolved])
    return out.getvalue()
