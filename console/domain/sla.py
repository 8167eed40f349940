"""The SLA engine: response and resolution clocks per priority.

A clock starts when the incident is created and stops when it is acknowledged (response) or
resolved (resolution). Time inside a pause (on hold, or resolved before a reopen) never
counts, and with a business-hours calendar only business time counts. Changing the priority
re-targets a clock: it keeps its start, only the target changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from console.domain import durations
from console.domain.models import UTC, Duration, Pause, Priority, Status, utc

ClockKind = Literal["response", "resolution"]
CLOCK_KINDS: tuple[ClockKind, ...] = ("response", "resolution")


class SlaFacts(Protocol):
    """What the SLA rules read of an incident: a full ``Incident`` or the console's compact
    ``IncidentRow`` (``console.domain.rows``); the rules are written once, over this."""

    @property
    def status(self) -> Status: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def pauses(self) -> tuple[Pause, ...]: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def on_hold_since(self) -> datetime | None: ...


class SlaState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


class Target(BaseModel):
    """Response (to acknowledge) and resolution targets of one priority.

    In TOML a duration may be written ``"15m"``, ``"4h"``, ``"1h30m"``, ``"3d"``, ``"2w"``,
    ISO 8601 (``"PT15M"``, ``"P3D"``), ``"HH:MM:SS"`` or a number of seconds (``900``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    response: Duration
    """Time allowed until the incident is acknowledged, e.g. ``"15m"``, ``"PT15M"`` or ``900``
    (seconds)."""
    resolution: Duration
    """Time allowed until the incident is resolved, e.g. ``"4h"``, ``"P3D"`` or ``14400``
    (seconds)."""

    @field_validator("response", "resolution")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("an SLA target must be longer than zero")
        return value


DEFAULT_TARGETS: dict[Priority, Target] = {
    Priority.P1: Target(response=timedelta(minutes=15), resolution=timedelta(hours=4)),
    Priority.P2: Target(response=timedelta(minutes=30), resolution=timedelta(hours=8)),
    Priority.P3: Target(response=timedelta(hours=4), resolution=timedelta(days=3)),
    Priority.P4: Target(response=timedelta(days=1), resolution=timedelta(days=10)),
    Priority.P5: Target(response=timedelta(days=3), resolution=timedelta(days=30)),
}


class BusinessCalendar(BaseModel):
    """Business hours: only this time counts against an SLA on a calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    timezone: str = "UTC"
    """IANA timezone the hours are in, e.g. ``Europe/Berlin`` (daylight saving included)."""
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Working days, Monday = 0 .. Sunday = 6."""
    start: time = time(9, 0)
    """Start of the working day (local time), e.g. ``"09:00"`` or TOML ``09:00:00``."""
    end: time = time(17, 0)
    """End of the working day (local time), e.g. ``"17:30"``; must be after ``start``."""
    holidays: tuple[date, ...] = ()
    """Local dates that are not working days, e.g. ``[2026-12-25, 2026-12-26]``."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(day not in range(7) for day in value):
            raise ValueError("weekdays must name at least one day, 0 (Monday) to 6 (Sunday)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _hours(self) -> BusinessCalendar:
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")
        return self

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business windows (UTC) from the day of ``since`` on, forever."""
        zone = ZoneInfo(self.timezone)
        day = utc(since).astimezone(zone).date()
        holidays = set(self.holidays)
        while True:
            if day.weekday() in self.weekdays and day not in holidays:
                start = datetime.combine(day, self.start, zone).astimezone(UTC)
                end = datetime.combine(day, self.end, zone).astimezone(UTC)
                yield start, end
            day += timedelta(days=1)


class SlaPolicy(BaseModel):
    """SLA targets per priority, the warning threshold and an optional calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    targets: dict[Priority, Target] = Field(default_factory=lambda: dict(DEFAULT_TARGETS))
    """Response and resolution targets per priority, e.g. ``[sla.targets.P1] response =
    "15m"``, ``resolution = "4h"``; priorities left out keep the defaults (P1 15m/4h, P2
    30m/8h, P3 4h/3d, P4 1d/10d, P5 3d/30d)."""
    warning: float = Field(default=0.75, gt=0, lt=1)
    """Share of the target used at which a clock turns to warning (0.75 = 75 %)."""
    calendar: BusinessCalendar | None = None
    """Count only business hours; ``None`` counts around the clock."""

    @model_validator(mode="before")
    @classmethod
    def _partial_targets(cls, data: Any) -> Any:
        """A config may set only one side of a priority (``[sla.targets.P1] response = "10m"``);
        the other side keeps its default."""
        if not isinstance(data, Mapping) or not isinstance(data.get("targets"), Mapping):
            return data
        targets: dict[Any, Any] = {}
        for key, value in data["targets"].items():
            if isinstance(value, Mapping) and key in Priority.__members__.values():
                default = DEFAULT_TARGETS[Priority(key)]
                value = {
                    "response": default.response,
                    "resolution": default.resolution,
                    **value,
                }
            targets[key] = value
        return {**data, "targets": targets}

    @model_validator(mode="after")
    def _all_priorities(self) -> SlaPolicy:
        missing = [p.value for p in Priority if p not in self.targets]
        if missing:
            merged = {**DEFAULT_TARGETS, **self.targets}
            object.__setattr__(self, "targets", merged)
        return self

    def target(self, priority: Priority, kind: ClockKind) -> timedelta:
        target = self.targets[priority]
        return target.response if kind == "response" else target.resolution

    def warning_after(self, target: timedelta) -> timedelta:
        """Counted time after which a clock of ``target`` is in the warning band."""
        return target * self.warning


@dataclass(frozen=True, slots=True)
class SlaClock:
    kind: ClockKind
    state: SlaState
    target: timedelta
    used: timedelta
    """Counted time so far (or until the clock stopped)."""
    due: datetime | None
    """When the target is reached, if nothing pauses it; ``None`` while paused."""

    @property
    def remaining(self) -> timedelta:
        """Time left (negative once breached)."""
        return self.target - self.used

    @property
    def fraction(self) -> float:
        total = self.target.total_seconds()
        return self.used.total_seconds() / total if total > 0 else 1.0


def _closed_pauses(pauses: Sequence[Pause], now: datetime) -> list[tuple[datetime, datetime]]:
    """Pauses as (start, end) intervals, an open pause ending at ``now``, merged and sorted."""
    spans = sorted((utc(p.start), utc(p.end) if p.end else now) for p in pauses)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def _countable(
    start: datetime,
    pauses: list[tuple[datetime, datetime]],
    calendar: BusinessCalendar | None,
) -> Iterator[tuple[datetime, datetime | None]]:
    """Intervals from ``start`` on that count against a clock (``None`` end: unbounded)."""
    windows: Iterator[tuple[datetime, datetime | None]]
    if calendar is None:
        windows = iter([(start, None)])
    else:
        windows = ((max(a, start), b) for a, b in calendar.windows(start) if b > start)
    for w_start, w_end in windows:
        cursor: datetime = w_start
        for p_start, p_end in pauses:
            if p_end <= cursor:
                continue
            if w_end is not None and p_start >= w_end:
                break
            if p_start > cursor:
                yield cursor, p_start
            cursor = max(cursor, p_end)
        if w_end is None or cursor < w_end:
            yield cursor, w_end


def counted(
    start: datetime,
    end: datetime,
    pauses: Sequence[Pause] = (),
    calendar: BusinessCalendar | None = None,
) -> timedelta:
    """Time between ``start`` and ``end`` that counts: outside pauses, inside business hours."""
    start, end = utc(start), utc(end)
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    for a, b in _countable(start, _closed_pauses(pauses, end), calendar):
        if a >= end:
            break
        stop = end if b is None else min(b, end)
        if stop > a:
            total += stop - a
    return total


def due_time(
    start: datetime,
    target: timedelta,
    pauses: Sequence[Pause] = (),
    calendar: BusinessCalendar | None = None,
    now: datetime | None = None,
) -> datetime:
    """The instant at which counted time from ``start`` reaches ``target``.

    Known pauses are skipped; an open pause is taken to end at ``now``.
    """
    start = utc(start)
    if not pauses and calendar is None:
        return start + target  # nothing to skip: every instant counts
    now = utc(now) if now is not None else start
    left = target
    for a, b in _countable(start, _closed_pauses(pauses, max(now, start)), calendar):
        if b is None or b - a >= left:
            return a + left
        left -= b - a
    raise AssertionError("business calendar ran out of windows")  # pragma: no cover


def clock_bounds(incident: SlaFacts, kind: ClockKind) -> tuple[datetime, datetime | None]:
    """When a clock started, and when it stopped (``None`` while it still runs)."""
    if kind == "response":
        stop = incident.acknowledged_at
    else:
        stop = incident.resolved_at
    if stop is None and incident.status == Status.CANCELLED:
        stop = incident.closed_at
    return incident.created_at, stop


def sla_clock(
    incident: SlaFacts, now: datetime, policy: SlaPolicy, kind: ClockKind = "resolution"
) -> SlaClock:
    """The state of one SLA clock of ``incident`` at ``now``."""
    now = utc(now)
    target = policy.target(incident.priority, kind)
    start, stop = clock_bounds(incident, kind)
    end = stop if stop is not None else now
    used = counted(start, end, incident.pauses, policy.calendar)
    paused = stop is None and incident.on_hold_since is not None
    due = None if paused else due_time(start, target, incident.pauses, policy.calendar, end)
    if stop is not None:
        state = SlaState.MET if used <= target else SlaState.BREACHED
        if state == SlaState.MET:
            due = None
    elif used >= target:
        state = SlaState.BREACHED
    elif paused:
        state = SlaState.PAUSED
    elif used >= policy.warning_after(target):
        state = SlaState.WARNING
    else:
        state = SlaState.RUNNING
    return SlaClock(kind=kind, state=state, target=target, used=used, due=due)


def active_kind(incident: SlaFacts) -> ClockKind:
    """The clock a queue shows: response until acknowledged, then resolution."""
    return "response" if incident.acknowledged_at is None else "resolution"


def active_clock(incident: SlaFacts, now: datetime, policy: SlaPolicy) -> SlaClock:
    return sla_clock(incident, now, policy, active_kind(incident))


def indexes_due(incident: SlaFacts) -> bool:
    """Whether a store indexes a due time for ``incident``: open and not on hold."""
    return incident.is_open and incident.on_hold_since is None


def breach_due(
    incident: SlaFacts,
    policy: SlaPolicy,
    now: datetime,
    running: Mapping[ClockKind, datetime | None] | None = None,
) -> datetime | None:
    """When ``incident`` counts as breached: THE definition of "breached", shared by the
    queue header, the ``breached`` filter, the wall, ``/metrics``, the reports and the
    stores' ``sla_due`` (so the SQL filter is ``sla_due <= now``).

    An open incident is breached once either of its clocks is past its target: a running
    clock at its due time; a stopped one (acknowledged or resolved) that stopped late, from
    its due time on, for good (a response acknowledged late stays breached after the
    acknowledge); a paused one that ran out before the pause. The result is the earliest
    such instant (possibly in the past), or ``None`` when time alone cannot breach the
    incident (finished, or on hold with its clocks inside target). A priority change
    re-targets the clocks, so it moves this instant too (the timeline keeps the breach).

    ``running``: ``running_breaches`` of ``incident``, when the caller has them already.
    """
    if not incident.is_open:
        return None
    now = utc(now)
    instants: list[datetime] = []
    for kind in CLOCK_KINDS:
        start, stop = clock_bounds(incident, kind)
        if stop is None:
            at = (
                running[kind]
                if running is not None
                else running_breach(incident, policy, kind, now)
            )
            if at is not None:
                instants.append(at)
            continue
        target = policy.target(incident.priority, kind)
        if counted(start, stop, incident.pauses, policy.calendar) > target:
            instants.append(due_time(start, target, incident.pauses, policy.calendar, stop))
    return min(instants, default=None)


def running_breach(
    incident: SlaFacts, policy: SlaPolicy, kind: ClockKind, now: datetime
) -> datetime | None:
    """When a clock that has not stopped is past its target: its due time while it runs;
    on hold, the due time if it ran out before the hold (possibly in the past), else
    ``None`` (a held clock inside target breaches by no amount of time)."""
    start, _ = clock_bounds(incident, kind)
    target = policy.target(incident.priority, kind)
    now = utc(now)
    if incident.on_hold_since is not None:
        if counted(start, now, incident.pauses, policy.calendar) < target:
            return None
    return due_time(start, target, incident.pauses, policy.calendar, now)


def running_breaches(
    incident: SlaFacts, policy: SlaPolicy, now: datetime
) -> dict[ClockKind, datetime | None]:
    """``running_breach`` of each clock of ``incident`` that has not stopped, for a caller
    that needs them twice (a store's row: ``breach_due`` and
    ``escalation.next_breach_mark``)."""
    return {
        kind: running_breach(incident, policy, kind, now)
        for kind in CLOCK_KINDS
        if clock_bounds(incident, kind)[1] is None
    }


def is_breached(incident: SlaFacts, now: datetime, policy: SlaPolicy) -> bool:
    """Whether ``incident`` is breached at ``now`` (see ``breach_due``)."""
    due = breach_due(incident, policy, now)
    return due is not None and due <= utc(now)


def queue_state(incident: SlaFacts, now: datetime, policy: SlaPolicy) -> SlaState:
    """The state the queue, the filter and the wall show: the active clock's, except that a
    breached incident (``is_breached``) is ``BREACHED`` whatever its active clock says."""
    if is_breached(incident, now, policy):
        return SlaState.BREACHED
    kind = active_kind(incident) if incident.is_open else "resolution"
    return sla_clock(incident, now, policy, kind).state


def steady_for(clock: SlaClock, policy: SlaPolicy) -> timedelta | None:
    """How long from the instant ``clock`` was read its state and its reading
    (``format_remaining``) cannot change: counted time grows no faster than time passes
    (slower outside business hours or on hold), so nothing moves before the time left could
    reach the next step of its reading, the warning band or the breach. A reading is sure for
    every instant before ``read + steady_for`` (not at it). ``None``: a clock that does not
    move while the incident stays as it is (met, paused)."""
    if clock.state in (SlaState.MET, SlaState.PAUSED):
        return None
    left = clock.remaining
    if left > timedelta(0):
        whole = int(left.total_seconds())  # the whole seconds ``format_remaining`` shows
        step = durations.countdown_step(whole)
        lasts = left - timedelta(seconds=whole // step * step)
        if clock.state == SlaState.RUNNING:
            lasts = min(lasts, left - (clock.target - policy.warning_after(clock.target)))
    else:
        late = -left
        whole = int(late.total_seconds())
        step = durations.countdown_step(whole)
        lasts = timedelta(seconds=(whole // step + 1) * step) - late
    return max(lasts, timedelta(0))


def sort_due(
    incident: SlaFacts,
    policy: SlaPolicy,
    now: datetime,
    running: Mapping[ClockKind, datetime | None] | None = None,
) -> datetime | None:
    """The due time a store indexes for the queue: ``breach_due``. Breached rows sort
    first (``due <= now``), the others by when they will breach; ``None`` (on hold inside
    target, or finished) sorts after every time."""
    return breach_due(incident, policy, now, running)


def format_remaining(clock: SlaClock) -> str:
    """``12:34`` (mm:ss), ``3h05m``, ``2d04h``; a breached clock shows how late it is."""
    if clock.state == SlaState.MET:
        return "met"
    if clock.state == SlaState.PAUSED:
        return "paused"
    seconds = int(clock.remaining.total_seconds())
    late = seconds < 0
    text = durations.countdown(abs(seconds))
    return f"-{text}" if late else text
