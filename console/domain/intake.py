"""Alert intake as pure functions: webhook bodies -> signals -> a plan of store writes.

Two body formats arrive over HTTP (``console.http.intake``):

- the Prometheus Alertmanager webhook, version 4 (``parse_alertmanager``);
- a PagerDuty Events API v2 style event (``parse_event``).

Each becomes a list of ``Signal`` (one alert saying trigger / acknowledge / resolve). A
store then calls ``plan(signals, state, ...)`` inside its write transaction with what it
knows about those alerts (``IngestState``) and carries out the resulting ``IngestPlan``:
alert rows to insert and update, incidents to open, and lifecycle actions to apply through
``console.domain.lifecycle.apply``. Nothing here does I/O, so every rule (dedup by fingerprint,
grouping, severity -> priority, auto-resolve, dropped events) is tested without a store.

Alerts are deduplicated by their identity (the Alertmanager fingerprint or the Events
``dedup_key``) within one integration, never by their text: two different alerts with the
same summary stay two alerts.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.domain.config import IntakeSettings
from console.domain.lifecycle import (
    Acknowledge,
    Action,
    AddNote,
    AlertRepeated,
    Resolve,
    SetPriority,
)
from console.domain.limits import in_range
from console.domain.models import (
    Incident,
    Link,
    LinkKind,
    NewIncident,
    ResolutionCode,
    Status,
    priority_for,
)
from console.domain.text import Data, Line, Text, clean, fit

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Alertmanager's ``endsAt`` of an alert that is still firing (Go's zero time)."""

AlertStatus = Literal["firing", "acknowledged", "resolved"]
SignalAction = Literal["trigger", "acknowledge", "resolve"]

TITLE_LIMIT = 500
LABEL_KEY_LIMIT = 100
LABEL_VALUE_LIMIT = 1000
LABELS_MAX = 64
TEXT_LIMIT = 20_000
KEY_LIMIT = 255


class IntakeError(ValueError):
    """A body that cannot be taken in; ``errors`` lists what is wrong, field by field."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


class TooLarge(IntakeError):
    """More alerts in one body than ``IntakeSettings.max_alerts`` allows."""


# --- the wire formats ------------------------------------------------------------------------


class _Wire(BaseModel):
    """Strict JSON: a string is a string, a number a number; unknown fields are ignored so a
    newer sender does not break intake. Every string field is ``Line`` / ``Text`` / ``Data``:
    cleaned here, at the edge (``console.domain.text``), so nothing a sender writes reaches
    the store raw, the details (``custom_details``, images, URLs, ``groupKey``) included."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class AmAlert(_Wire):
    status: Literal["firing", "resolved"]
    labels: dict[Line, Line] = Field(default_factory=dict)
    annotations: dict[Line, Text] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: Line = ""
    fingerprint: Line = Field(default="", max_length=KEY_LIMIT)


class AmWebhook(_Wire):
    """Alertmanager's webhook body, version 4."""

    version: Literal["4"]
    groupKey: Line = Field(min_length=1, max_length=4096)
    status: Literal["firing", "resolved"]
    receiver: Line = ""
    groupLabels: dict[Line, Line] = Field(default_factory=dict)
    commonLabels: dict[Line, Line] = Field(default_factory=dict)
    commonAnnotations: dict[Line, Text] = Field(default_factory=dict)
    externalURL: Line = ""
    truncatedAlerts: int = Field(default=0, ge=0)
    alerts: list[AmAlert]


class EventLink(_Wire):
    href: Line = Field(min_length=1)
    text: Line = ""


class EventImage(_Wire):
    src: Line = Field(min_length=1)
    href: Line = ""
    alt: Line = ""


class EventPayload(_Wire):
    summary: Line = Field(min_length=1, max_length=1024)
    source: Line = Field(min_length=1, max_length=1024)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: Line | None = Field(default=None, max_length=1024)
    group: Line | None = Field(default=None, max_length=1024)
    class_: Line | None = Field(default=None, max_length=1024, alias="class")
    custom_details: Data = None


class Event(_Wire):
    """A PagerDuty Events API v2 style event."""

    routing_key: str = Field(min_length=1, max_length=KEY_LIMIT)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: Line | None = Field(default=None, min_length=1, max_length=KEY_LIMIT)
    payload: EventPayload | None = None
    client: Line | None = None
    client_url: Line | None = None
    links: list[EventLink] = Field(default_factory=list)
    images: list[EventImage] = Field(default_factory=list)

    @field_validator("links", "images", mode="before")
    @classmethod
    def _many(cls, value: object) -> object:
        return [] if value is None else value


def _errors(exc: ValidationError) -> list[str]:
    out = []
    for item in exc.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        out.append(f"{where}: {item['msg']}")
    return out[:20]


# --- signals ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signal:
    """One alert's news: it fires (``trigger``), is acknowledged, or resolves."""

    source: Literal["alertmanager", "events"]
    action: SignalAction
    alert_key: str
    """The alert's identity within its integration: fingerprint or dedup key."""
    group_key: str
    """Alerts with the same group key share an open incident."""
    summary: str
    description: str = ""
    severity: str = ""
    impact: int = 2
    urgency: int = 2
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    """What else the sender said (generator URL, custom details, images), stored as JSON."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def severity_rule(severity: str, rules: IntakeSettings) -> tuple[str, int, int]:
    """``(severity, impact, urgency)`` for a severity name; unknown names use the default."""
    name = clean(severity).strip().lower()
    if name not in rules.severities:
        name = rules.default_severity.lower()
    rule = rules.severities.get(name)
    if rule is None:
        return name, 2, 2
    return name, rule.impact, rule.urgency


def clean_labels(labels: Mapping[str, str], *, cleaned: bool = False) -> dict[str, str]:
    """Labels safe to show and store: cleaned, bounded, at most ``LABELS_MAX`` of them.
    ``cleaned``: keys and values are already clean single lines (a wire model's ``Line``
    fields), so they are only bounded."""
    out: dict[str, str] = {}
    for key in sorted(labels)[:LABELS_MAX]:
        if cleaned:
            name, value = fit(key, LABEL_KEY_LIMIT).strip(), fit(labels[key], LABEL_VALUE_LIMIT)
        else:
            name = clean(key, limit=LABEL_KEY_LIMIT).strip()
            value = clean(labels[key], limit=LABEL_VALUE_LIMIT)
        if name:
            out[name] = value
    return out


def url_link(url: str, title: str) -> Link | None:
    """A link to a web page, if ``url`` is an http(s) URL that fits a link's ref."""
    ref = clean(url).strip()
    if not ref.lower().startswith(("http://", "https://")) or len(ref) > 200:
        return None
    return Link(kind=LinkKind.URL, ref=ref, title=clean(title, limit=200))


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable identity from an alert's label set, for senders that send no fingerprint
    (Alertmanager's own fingerprint is a hash of the labels too)."""
    text = json.dumps(sorted(labels.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _when(value: datetime | None) -> datetime | None:
    """An alert's own time, or ``None`` (the time of receipt is used) when it is Go's zero
    time or outside ``limits.EARLIEST .. LATEST``: a sender's clock must not be able to
    crash intake, and refusing the webhook would make Alertmanager drop the whole group."""
    if value is None or not in_range(value):
        return None
    return value.astimezone(UTC)


def parse_alertmanager(body: bytes | str, rules: IntakeSettings) -> tuple[AmWebhook, list[Signal]]:
    """Validate an Alertmanager webhook body and turn each alert into a signal.

    Raises ``IntakeError`` (a 400) naming every invalid field, ``TooLarge`` for more alerts
    than ``rules.max_alerts``.
    """
    try:
        hook = AmWebhook.model_validate_json(body)
    except ValidationError as exc:
        raise IntakeError("invalid Alertmanager webhook body", _errors(exc)) from None
    if len(hook.alerts) > rules.max_alerts:
        raise TooLarge(
            f"{len(hook.alerts)} alerts in one webhook; at most {rules.max_alerts} are taken "
            "(set intake.max_alerts, or lower Alertmanager's max_alerts)"
        )
    signals = []
    for alert in hook.alerts:
        labels = {**hook.commonLabels, **alert.labels}
        annotations = {**hook.commonAnnotations, **alert.annotations}
        # Every string of ``hook`` is clean already (``Line`` / ``Text``): only the
        # annotations, multi-line there, are cleaned again here, as single lines.
        fingerprint = alert.fingerprint.strip() or label_fingerprint(alert.labels)
        name, impact, urgency = severity_rule(labels.get(rules.severity_label, ""), rules)
        summary = (
            annotations.get("summary")
            or annotations.get("message")
            or labels.get("alertname")
            or "alert"
        )
        links = [
            url_link(annotations.get("runbook_url", ""), "runbook"),
            url_link(alert.generatorURL, "source"),
        ]
        group = hook.groupKey if rules.alertmanager_group_by == "group_key" else fingerprint
        details = {
            "generatorURL": alert.generatorURL,
            "externalURL": hook.externalURL,
            "receiver": hook.receiver,
            "groupKey": hook.groupKey,
        }
        signals.append(
            Signal(
                source="alertmanager",
                action="trigger" if alert.status == "firing" else "resolve",
                alert_key=fingerprint,
                group_key=group,
                summary=clean(summary, limit=TITLE_LIMIT),
                description=annotations.get("description", "")[:TEXT_LIMIT],
                severity=name,
                impact=impact,
                urgency=urgency,
                labels=clean_labels(labels, cleaned=True),
                annotations=clean_labels(annotations),
                links=tuple(link for link in links if link is not None),
                details=details,
                starts_at=_when(alert.startsAt),
                ends_at=_when(alert.endsAt),
            )
        )
    return hook, signals


def parse_event(body: bytes | str, rules: IntakeSettings) -> tuple[Event, Signal]:
    """Validate an Events v2 body and turn it into a signal.

    A trigger without a ``dedup_key`` gets a generated one (returned in the signal's
    ``alert_key``); acknowledge and resolve must name the dedup key they refer to.
    """
    try:
        event = Event.model_validate_json(body)
    except ValidationError as exc:
        raise IntakeError("Event object is invalid", _errors(exc)) from None
    problems = []
    if event.event_action == "trigger" and event.payload is None:
        problems.append("payload: a trigger event needs a payload (summary, source, severity)")
    if event.event_action != "trigger" and not event.dedup_key:
        problems.append(f"dedup_key: an {event.event_action} event must name its dedup_key")
    if problems:
        raise IntakeError("Event object is invalid", problems)
    dedup = clean(event.dedup_key or "").strip() or uuid.uuid4().hex
    payload = event.payload
    if payload is None:
        return event, Signal(
            source="events",
            action=event.event_action,
            alert_key=dedup,
            group_key=dedup,
            summary="",
        )
    name, impact, urgency = severity_rule(payload.severity, rules)
    fields = {
        "source": payload.source,
        "component": payload.component,
        "group": payload.group,
        "class": payload.class_,
    }
    group = dedup
    if rules.events_group_by != "dedup_key":
        group = f"{rules.events_group_by}:{fields.get(rules.events_group_by) or dedup}"
    labels = {k: v for k, v in fields.items() if v}
    labels["severity"] = payload.severity
    links = [url_link(link.href, link.text) for link in event.links[:20]]
    if event.client_url:
        links.append(url_link(event.client_url, event.client or "source"))
    description = ""
    if isinstance(payload.custom_details, str):
        description = payload.custom_details
    elif isinstance(payload.custom_details, dict):
        text = payload.custom_details.get("description")
        description = text if isinstance(text, str) else ""
    details = {
        "custom_details": payload.custom_details,
        "images": [image.model_dump() for image in event.images[:20]],
        "client": event.client,
        "timestamp": payload.timestamp.isoformat() if payload.timestamp else None,
    }
    return event, Signal(
        source="events",
        action=event.event_action,
        alert_key=dedup,
        group_key=clean(group)[:KEY_LIMIT],
        summary=clean(payload.summary, limit=TITLE_LIMIT),
        description=clean(description, multiline=True)[:TEXT_LIMIT],
        severity=name,
        impact=impact,
        urgency=urgency,
        labels=clean_labels(labels),
        links=_unique(link for link in links if link is not None),
        details=details,
        starts_at=_when(payload.timestamp),
    )


def _unique(links: Iterable[Link]) -> tuple[Link, ...]:
    seen: dict[str, Link] = {}
    for link in links:
        seen.setdefault(link.ref, link)
    return tuple(seen.values())


# --- stored alerts ---------------------------------------------------------------------------


class Alert(BaseModel):
    """An alert as stored: one occurrence of an alert identity within one incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    incident_id: int
    integration_id: str
    source: str
    alert_key: str
    group_key: str
    status: AlertStatus
    severity: str = ""
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    links: tuple[Link, ...] = ()
    details: dict[str, Any] = Field(default_factory=dict)
    count: int = 1
    """How often this alert arrived (the first firing plus repeats)."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    first_seen: datetime
    last_seen: datetime


@dataclass(slots=True)
class KnownAlert:
    """What a store knows of an alert identity: its latest row."""

    id: int | None
    incident: int | NewRef
    status: AlertStatus
    count: int = 1


@dataclass(frozen=True, slots=True)
class NewRef:
    """An incident the plan opens; ``index`` into ``IngestPlan.new_incidents``."""

    index: int


IncidentRef = int | NewRef


@dataclass(slots=True)
class IngestState:
    """What the store read, inside the write transaction, for one batch of one integration.

    - ``alerts``: the latest row of every alert identity named in the batch;
    - ``incidents``: every incident those rows point to, and the open incident of every group
      key named in the batch;
    - ``groups``: group key -> id of its open incident;
    - ``open_alerts``: incident id -> identities of its alerts not yet resolved.
    """

    alerts: dict[str, KnownAlert] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    open_alerts: dict[int, set[str]] = field(default_factory=dict)


@dataclass(slots=True)
class AlertInsert:
    incident: IncidentRef
    signal: Signal
    status: AlertStatus
    count: int = 1


@dataclass(slots=True)
class AlertUpdate:
    id: int
    status: AlertStatus
    repeats: int = 0
    signal: Signal | None = None
    """The latest signal (summary, labels, ends_at) to store on the row."""


@dataclass(slots=True)
class NewIncidentPlan:
    new: NewIncident
    alert_count: int = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one signal: ``created``, ``repeated``, ``acknowledged``, ``resolved``,
    or ``dropped`` with the reason."""

    alert_key: str
    result: Literal["created", "repeated", "acknowledged", "resolved", "dropped"]
    reason: str = ""


@dataclass(slots=True)
class IngestPlan:
    new_incidents: list[NewIncidentPlan] = field(default_factory=list)
    inserts: list[AlertInsert] = field(default_factory=list)
    updates: dict[int, AlertUpdate] = field(default_factory=dict)
    actions: list[tuple[IncidentRef, Action]] = field(default_factory=list)
    """In order; a ``NewRef`` means the incident this plan opens."""
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def dropped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "dropped"]

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_incidents or self.inserts or self.updates or self.actions)


@dataclass(slots=True)
class _Bucket:
    """What the batch does to one incident, folded into a few actions at the end."""

    repeats: int = 0
    summary: str = ""
    impact: int = 3
    urgency: int = 3
    acknowledge: bool = False
    resolved_some: bool = False


def new_incident_for(signal: Signal, service: str, policy: str | None = None) -> NewIncident:
    """The incident a first firing alert opens: title, labels, annotations and links."""
    description = signal.description
    extra = [
        f"{name}: {value}"
        for name, value in signal.annotations.items()
        if name not in ("summary", "description", "runbook_url")
    ]
    if extra:
        description = "\n".join([description, "", *extra]).strip()
    return NewIncident(
        title=signal.summary or "alert",
        service=service,
        description=description[:TEXT_LIMIT],
        impact=signal.impact,
        urgency=signal.urgency,
        policy=policy,
        source=signal.source,
        dedup_key=signal.group_key[:KEY_LIMIT],
        labels=dict(signal.labels),
        links=signal.links,
    )


def plan(
    signals: Sequence[Signal],
    state: IngestState,
    *,
    service: str,
    auto_resolve: bool = True,
) -> IngestPlan:
    """Decide what a batch of signals does, given what the store knows (``state``).

    - A trigger of an alert that is open in an open incident is a repeat: its row counts
      one more and the incident gets one "alert repeated" entry per batch (never a new
      incident). A trigger for a group with an open incident joins it; otherwise it opens a
      new incident, also when the alert's earlier incident is resolved.
    - A more severe alert raises the incident's impact / urgency (never lowers it, never
      over a priority a person set by hand).
    - Acknowledge acknowledges the incident (if it is still triggered).
    - Resolve marks the alert resolved; once no alert of the incident is open, the incident
      resolves as ``auto_resolved`` (or gets a note when ``auto_resolve`` is off).
    - Acknowledge / resolve of an alert that is unknown or already resolved is dropped.
    """
    out = IngestPlan()
    alerts = {key: replace(known) for key, known in state.alerts.items()}  # never mutate state
    groups: dict[str, IncidentRef] = dict(state.groups)
    open_alerts: dict[IncidentRef, set[str]] = {k: set(v) for k, v in state.open_alerts.items()}
    buckets: dict[IncidentRef, _Bucket] = {}
    inserted: dict[str, AlertInsert] = {}

    def is_open(ref: IncidentRef) -> bool:
        if isinstance(ref, NewRef):
            return True
        incident = state.incidents.get(ref)
        return incident is not None and incident.is_open

    def arrived(ref: IncidentRef, signal: Signal, *, first: bool) -> None:
        b = buckets.setdefault(ref, _Bucket())
        b.impact, b.urgency = min(b.impact, signal.impact), min(b.urgency, signal.urgency)
        if first:
            return
        if isinstance(ref, NewRef):
            out.new_incidents[ref.index].alert_count += 1
        else:
            b.repeats += 1
            b.summary = signal.summary

    def set_row(known: KnownAlert, status: AlertStatus, signal: Signal, repeat: bool) -> None:
        key = signal.alert_key
        if known.id is None:
            insert = inserted[key]
            insert.status = status
            insert.signal = signal
            insert.count += int(repeat)
            return
        row = out.updates.setdefault(known.id, AlertUpdate(id=known.id, status=status))
        row.status = status
        row.signal = signal
        row.repeats += int(repeat)

    for signal in signals:
        key = signal.alert_key
        known = alerts.get(key)
        if signal.action == "trigger":
            if known is not None and is_open(known.incident):
                # A repeat, or the same alert firing again while its incident is still open.
                status: AlertStatus = "firing" if known.status == "resolved" else known.status
                set_row(known, status, signal, True)
                known.status = status
                known.count += 1
                open_alerts.setdefault(known.incident, set()).add(key)
                arrived(known.incident, signal, first=False)
                out.outcomes.append(Outcome(key, "repeated"))
                continue
            ref = groups.get(signal.group_key)
            result: Literal["created", "repeated"] = "repeated"
            if ref is None or not is_open(ref):
                ref = NewRef(len(out.new_incidents))
                out.new_incidents.append(NewIncidentPlan(new_incident_for(signal, service)))
                groups[signal.group_key] = ref
                result = "created"
            insert = AlertInsert(ref, signal, "firing")
            out.inserts.append(insert)
            inserted[key] = insert
            alerts[key] = KnownAlert(id=None, incident=ref, status="firing")
            open_alerts.setdefault(ref, set()).add(key)
            arrived(ref, signal, first=result == "created")
            out.outcomes.append(Outcome(key, result))
        elif signal.action == "acknowledge":
            if known is None or known.status == "resolved" or not is_open(known.incident):
                out.outcomes.append(Outcome(key, "dropped", _why_dropped(known)))
                continue
            set_row(known, "acknowledged", signal, False)
            known.status = "acknowledged"
            buckets.setdefault(known.incident, _Bucket()).acknowledge = True
            out.outcomes.append(Outcome(key, "acknowledged"))
        else:
            if known is None or known.status == "resolved":
                out.outcomes.append(Outcome(key, "dropped", _why_dropped(known)))
                continue
            set_row(known, "resolved", signal, False)
            known.status = "resolved"
            open_alerts.get(known.incident, set()).discard(key)
            buckets.setdefault(known.incident, _Bucket()).resolved_some = True
            out.outcomes.append(Outcome(key, "resolved"))

    for ref, b in buckets.items():
        if isinstance(ref, NewRef):
            plan_ = out.new_incidents[ref.index]
            impact = min(b.impact, plan_.new.impact)
            urgency = min(b.urgency, plan_.new.urgency)
            if (impact, urgency) != (plan_.new.impact, plan_.new.urgency):
                plan_.new = plan_.new.model_copy(update={"impact": impact, "urgency": urgency})
            if b.acknowledge:
                out.actions.append((ref, Acknowledge()))
        else:
            incident = state.incidents.get(ref)
            if incident is None or not incident.is_open:
                continue
            if b.repeats:
                out.actions.append((ref, AlertRepeated(count=b.repeats, summary=b.summary)))
                impact = min(b.impact, incident.impact)
                urgency = min(b.urgency, incident.urgency)
                if (
                    not incident.priority_override
                    and priority_for(impact, urgency).rank < incident.priority.rank
                ):
                    out.actions.append((ref, SetPriority(impact=impact, urgency=urgency)))
            if b.acknowledge and incident.status == Status.TRIGGERED:
                out.actions.append((ref, Acknowledge()))
        if b.resolved_some and not open_alerts.get(ref):
            if auto_resolve:
                note = "every alert resolved"
                out.actions.append((ref, Resolve(code=ResolutionCode.AUTO_RESOLVED, note=note)))
            else:
                note = f"every alert resolved; auto-resolve is off for {service}"
                out.actions.append((ref, AddNote(text=note)))
    return out


def _why_dropped(known: KnownAlert | None) -> str:
    if known is None:
        return "no alert with this dedup_key is open"
    if known.status == "resolved":
        return "the alert with this dedup_key is already resolved"
    return "the incident of this alert is already resolved"


# --- integrations ----------------------------------------------------------------------------

IntegrationKind = Literal["alertmanager", "events", "change"]


class Integration(BaseModel):
    """A way in for alerts: it belongs to a service and holds a secret key (stored hashed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    service: str
    kind: IntegrationKind
    name: str = ""
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """Who timeline entries name for what this integration did."""
        return f"{self.kind}:{self.name or self.id}"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one committed batch did."""

    outcomes: tuple[Outcome, ...]
    created: tuple[str, ...] = ()
    """Keys of the incidents this batch opened."""
    updated: tuple[str, ...] = ()
    """Keys of existing incidents it changed."""

    @property
    def dropped(self) -> int:
        return sum(1 for o in self.outcomes if o.result == "dropped")

    def message(self) -> str:
        if self.outcomes and all(o.result == "dropped" for o in self.outcomes):
            return f"Event dropped: {self.outcomes[0].reason}; nothing was changed"
        return "Event processed"
