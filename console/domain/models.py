"""The domain model: pydantic models for incidents, their timeline and the people around them.

Pure data, no I/O and no Textual. Every time is a timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from console.domain.text import Line, Text, clean


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> object:
    """Accept compact durations (``"15m"``, ``"4h"``, ``"1h30m"``, ``"3d"``, ``"2w"``).

    Anything else is passed on to pydantic's own timedelta parsing, which takes seconds
    (``900``), ISO 8601 (``"PT15M"``, ``"P3D"``) and ``"[D day[s], ]HH:MM:SS"``. TOML has no
    duration type, so config files need at least one of these spellings.
    """
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if parts and "".join(f"{n}{u}" for n, u in parts).lower() == text.lower():
            seconds = sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in parts)
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
"""A ``timedelta`` that config files and API bodies may also spell ``"15m"`` or ``"PT15M"``."""


class Model(BaseModel):
    """Base for every domain model: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


OPEN_STATUSES = frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.ON_HOLD})
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})
STATUS_LABELS = {
    Status.TRIGGERED: "triggered",
    Status.ACKNOWLEDGED: "ack",
    Status.ON_HOLD: "on hold",
    Status.RESOLVED: "resolved",
    Status.CLOSED: "closed",
    Status.CANCELLED: "cancelled",
}


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"

    @property
    def rank(self) -> int:
        """1 for P1 .. 5 for P5: lower is more urgent."""
        return int(self.value[1])

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        return cls(f"P{min(5, max(1, rank))}")


Level = Annotated[int, Field(ge=1, le=3)]


def priority_for(impact: int, urgency: int) -> Priority:
    """The ITIL priority matrix: impact 1 (high) .. 3 (low) x urgency 1 .. 3.

    ::

                  urgency 1  urgency 2  urgency 3
        impact 1     P1         P2         P3
        impact 2     P2         P3         P4
        impact 3     P3         P4         P5
    """
    valid = (1, 2, 3)
    if (
        type(impact) is not int
        or type(urgency) is not int
        or impact not in valid
        or urgency not in valid
    ):
        raise ValueError(f"impact and urgency must be 1, 2 or 3 (got {impact} and {urgency})")
    return Priority.from_rank(impact + urgency - 1)


@dataclass(frozen=True, slots=True)
class PriorityChoice:
    """The priority an incident gets: the override if one is given, else the matrix cell."""

    priority: Priority
    matrix: Priority
    """What the ITIL matrix gives for the impact and urgency."""

    @property
    def overridden(self) -> bool:
        """An override that differs from the matrix (one equal to it is no override)."""
        return self.priority != self.matrix


def choose_priority(impact: int, urgency: int, override: Priority | None = None) -> PriorityChoice:
    """The one rule: an explicit priority overrides the matrix, else the matrix decides."""
    matrix = priority_for(impact, urgency)
    return PriorityChoice(priority=override or matrix, matrix=matrix)


class HoldReason(StrEnum):
    AWAITING_CALLER = "awaiting_caller"
    AWAITING_VENDOR = "awaiting_vendor"
    AWAITING_CHANGE = "awaiting_change"
    AWAITING_PROBLEM = "awaiting_problem"


class ResolutionCode(StrEnum):
    FIXED = "fixed"
    WORKAROUND = "workaround"
    DUPLICATE = "duplicate"
    NOT_REPRODUCIBLE = "not_reproducible"
    FALSE_ALARM = "false_alarm"
    AUTO_RESOLVED = "auto_resolved"


class LinkKind(StrEnum):
    PROBLEM = "problem"
    CHANGE = "change"
    URL = "url"


class Link(Model):
    """A link from an incident to a problem, a change record or a web page."""

    kind: LinkKind
    ref: str = Field(min_length=1, max_length=200)
    title: str = ""
    state: str = ""


def clean_link(link: Link) -> Link:
    """``link`` with its text cleaned (``console.domain.text.clean``); its ref may be left
    empty, which the caller refuses."""
    ref = clean(link.ref).strip()
    title, state = clean(link.title), clean(link.state)
    if (ref, title, state) == (link.ref, link.title, link.state):
        return link
    return link.model_copy(update={"ref": ref, "title": title, "state": state})


class Pause(Model):
    """An interval during which the SLA clocks did not run (on hold, or resolved before a reopen)."""

    start: datetime
    end: datetime | None = None
    reason: str = ""
    was: Status | None = None
    """For an on-hold pause: the status the incident had before, which ``resume`` restores."""

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
"""One shared set per combination of given field names (see ``Incident._share_fields_set``)."""


class Incident(Model):
    id: int
    key: str
    title: str
    description: str = ""
    service: str
    status: Status = Status.TRIGGERED
    impact: Level = 2
    urgency: Level = 2
    priority: Priority = Priority.P3
    priority_override: bool = False
    assignee: str | None = None
    policy: str | None = None
    escalation_level: int = 1
    escalation_loop: int = 0
    escalated_at: datetime | None = None
    created_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    hold_reason: HoldReason | None = None
    pauses: tuple[Pause, ...] = ()
    response_breached: bool = False
    resolution_breached: bool = False
    resolution_code: ResolutionCode | None = None
    resolution_note: str = ""
    reopen_count: int = 0
    source: str = "manual"
    dedup_key: str | None = None
    alert_count: int = 0
    labels: dict[str, str] = Field(default_factory=dict)
    links: tuple[Link, ...] = ()
    public: bool = False
    """Shown on the public status page (``console.domain.status_page``) once published."""
    public_title: str = ""
    """The title the status page shows: the internal title may name hosts or customers."""
    version: int = 1
    updated_at: datetime

    @field_validator(
        "created_at",
        "updated_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "escalated_at",
    )
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    @model_validator(mode="after")
    def _share_fields_set(self) -> Incident:
        # Pydantic keeps, per instance, the set of field names given: ~35 names, a 2.3 KB
        # set, two thirds of a parsed incident (220 MB at 100,000 open). A frozen model never
        # changes it in place (``model_copy`` copies it first), so equal sets are shared.
        names = self.__pydantic_fields_set__
        shared = _FIELDS_SETS.setdefault(frozenset(names), names)
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def on_hold_since(self) -> datetime | None:
        return hold_start(self.pauses)


def hold_start(pauses: tuple[Pause, ...]) -> datetime | None:
    """When the open pause (the hold going on now) began, or ``None``."""
    if pauses and pauses[-1].end is None:
        return pauses[-1].start
    return None


class EntryKind(StrEnum):
    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    NOTE = "note"
    PRIORITY_CHANGED = "priority_changed"
    REASSIGNED = "reassigned"
    ESCALATED = "escalated"
    ON_HOLD = "on_hold"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    ALERT_REPEATED = "alert_repeated"
    SLA_BREACHED = "sla_breached"
    LINKED = "linked"
    MERGED = "merged"
    PUBLISHED = "published"
    """Made public on the status page; the message is the first public update."""
    PUBLIC_UPDATE = "public_update"
    """A public update: the only entries besides ``PUBLISHED`` the status page shows."""


class TimelineEntry(Model):
    """One line of an incident's append-only audit trail.

    ``version`` is the incident version this entry produced, so a conflict can name what
    changed between the version a user saw and the current one.
    """

    id: int | None = None
    incident_id: int
    version: int
    at: datetime
    actor: str
    kind: EntryKind
    message: str
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)


class ContactKind(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    SLACK = "slack"
    WEBHOOK = "webhook"


class Contact(Model):
    """One way to reach a person (an address, a number, a chat handle or a webhook URL)."""

    kind: ContactKind
    to: Annotated[Line, Field(min_length=1, max_length=500)]


# The directory's text is typed ``Line`` / ``Text``: cleaned as it comes in (a directory file,
# the API, the console), so an id can hold no control or invisible character.
Id = Annotated[Line, Field(min_length=1, max_length=64)]
"""A directory id (service, person, team, policy, schedule): one clean line."""


class User(Model):
    id: Id
    """The person's handle: what assign, schedules and policies name them by."""
    name: Line
    email: Line = ""
    team: Line | None = None
    contacts: tuple[Contact, ...] = ()
    """Contact methods besides ``email``, in the order notifications should try them."""

    @property
    def reachable(self) -> bool:
        """Whether a page can reach this person at all (an e-mail or another contact)."""
        return bool(self.email) or bool(self.contacts)


class Team(Model):
    id: Id
    name: Line


class Service(Model):
    id: Id
    name: Line
    team: Line | None = None
    policy: Line | None = None
    auto_resolve: bool = True
    description: Text = ""
    depends_on: tuple[Line, ...] = ()
    """Ids of the services this one needs (an outage there explains one here)."""


class TargetKind(StrEnum):
    USER = "user"
    SCHEDULE = "schedule"


class EscalationTarget(Model):
    kind: TargetKind
    id: Line


class EscalationLevel(Model):
    targets: tuple[EscalationTarget, ...] = Field(min_length=1)
    wait: Duration = Field(default=timedelta(minutes=15), ge=timedelta(0), le=timedelta(days=30))
    """How long this level waits for an acknowledgement before moving to the next (at most
    30 days: a longer wait is a typo, and would overflow near the end of time)."""


class EscalationPolicy(Model):
    id: Id
    name: Line
    levels: tuple[EscalationLevel, ...] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=9)
    """How many more times to run through all levels after the first pass."""


class Rotation(Model):
    """A layer of a schedule: ``users`` take turns in shifts of ``shift`` starting at ``start``.

    When layers overlap, the later layer in the schedule wins (as PagerDuty's layers do).
    ``active_hours`` optionally restricts the layer to a daily window in the schedule's
    timezone, e.g. ``(9, 17)``.
    """

    name: Line = ""
    users: tuple[Line, ...] = Field(min_length=1)
    start: datetime
    """The first handoff; later handoffs keep its local wall-clock time across DST."""
    shift: Duration = timedelta(days=7)
    active_hours: tuple[int, int] | None = None
    """Daily window ``(from_hour, to_hour)`` in the schedule's timezone, 0..24; a window
    that wraps midnight, e.g. ``(22, 6)``, is allowed."""

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)

    @field_validator("shift")
    @classmethod
    def _positive_shift(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a shift must be longer than zero")
        return value

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(0 <= hour <= 24 for hour in value):
            raise ValueError("active_hours are hours of the day, 0 to 24")
        return value


class Override(Model):
    """Somebody covers a schedule between ``start`` and ``end``; overrides win over rotations."""

    user: Line
    start: datetime
    end: datetime
    by: Line = ""
    """Who wrote it from the console ("take on-call", "swap with"); empty for one that came
    from a directory file. ``incidents directory apply`` keeps console overrides that have
    not ended yet, so re-applying the team's file does not undo a swap made in the console."""

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")
        return self


class Schedule(Model):
    id: Id
    name: Line
    timezone: Line = "UTC"
    rotations: tuple[Rotation, ...] = Field(min_length=1)
    overrides: tuple[Override, ...] = ()


class NewIncident(Model):
    """What a person or an integration supplies to open an incident."""

    # Lengths are checked on the text as sent: a title of nothing but escape sequences is
    # stored empty (shown as "(no title)"), not refused, as intake would store it.
    title: Line = Field(min_length=1, max_length=500)
    service: Line = Field(min_length=1)
    description: Text = Field(default="", max_length=20_000)
    impact: Level = 2
    urgency: Level = 2
    priority: Priority | None = None
    """An explicit priority overrides the impact x urgency matrix."""
    assignee: Line | None = None
    policy: Line | None = None
    """The escalation policy; defaults to the service's policy."""
    source: Line = "manual"
    dedup_key: Line | None = None
    labels: dict[Line, Line] = Field(default_factory=dict)
    links: tuple[Link, ...] = ()
    created_at: datetime | None = None
    """Backfill only (demo history, imports); normally the backend's clock decides."""

    @field_validator("links")
    @classmethod
    def _clean_links(cls, links: tuple[Link, ...]) -> tuple[Link, ...]:
        # ``Link`` is also what every stored incident is read into: cleaned here, at the
        # edge, not on each read.
        cleaned = tuple(clean_link(link) for link in links)
        if any(not link.ref for link in cleaned):
            raise ValueError("a link's ref is empty without its control and invisible characters")
        return cleaned


SortKey = Literal["urgency", "priority", "age", "updated", "sla"]


class IncidentQuery(Model):
    """A query over incidents; every field narrows the result."""

    statuses: tuple[Status, ...] = tuple(OPEN_STATUSES)
    priorities: tuple[Priority, ...] = ()
    services: tuple[str, ...] = ()
    assignees: tuple[str | None, ...] = ()
    """``None`` in this list selects unassigned incidents."""
    text: str = ""
    breached: bool | None = None
    resolved_since: datetime | None = None
    keys: tuple[str, ...] = ()
    """Incident keys (``INC-2039``, upper-cased); several are OR-ed."""
    service_prefixes: tuple[str, ...] = ()
    """Lower-cased prefixes of the service id (``svc:pay``); several are OR-ed."""
    terms: tuple[str, ...] = ()
    """Lower-cased words that must each appear in the title, service, assignee or labels
    (``console.domain.query.searchable``); a bare number also matches the key ``INC-<n>``."""
    escalator_due: bool = False
    """Only incidents the automatic escalator may have to act on now: those whose
    ``console.domain.escalation.escalator_due`` (an escalation or an SLA breach to mark) is
    not after now. Stores read it from an indexed column, so a pass with nothing due reads
    no incident."""
    sort: SortKey = "urgency"
    limit: int = Field(default=500, ge=1, le=100_000)
    offset: int = Field(default=0, ge=0)


HistoryOrder = Literal["newest", "oldest"]
"""How a history page is ordered: by id (the order incidents were recorded), newest or
oldest first."""


class IncidentPage(Model):
    """One page of a history query (``Backend.page_incidents``)."""

    incidents: list[Incident]
    next: str | None = None
    """The cursor of the next page, ``None`` after the last one."""


class Change(Model):
    """One entry of the change feed: something happened to ``entity`` ``entity_id``."""

    seq: int
    at: datetime
    kind: str
    """e.g. ``incident.created``, ``incident.updated``, ``service.updated``."""
    entity: str
    entity_id: str
    version: int | None = None


def now_utc() -> datetime:
    return datetime.now(UTC)
