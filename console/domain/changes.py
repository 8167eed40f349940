"""Change events (deploys, config pushes, migrations) and their correlation with incidents.

A change event arrives in the body of PagerDuty's Change Events API v2 (``routing_key``,
``payload.summary``, ``payload.timestamp``, ``payload.source``, ``payload.custom_details``,
``links``), or from ``incidents change record`` for a deploy script without HTTP. It is stored
per service with its time. Nothing here does I/O: the stores keep the rows, the console and
the review draft ask ``candidates`` which changes came before an incident.

The correlation is deliberately simple and explainable: a change is a *candidate* for an
incident when it happened on the incident's service, or on a service that one depends on
(``ChangeSettings.dependencies``), within ``window`` before the incident started (and up to
``grace`` after, because a deploy pipeline often reports its change a little after the
rollout began). Candidates are listed newest first with how long before the incident they
happened, so a responder reads "deployed 4m before this incident" and decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.domain.durations import elapsed as span
from console.domain.intake import KEY_LIMIT, TEXT_LIMIT, IntakeError, url_link
from console.domain.models import Link, LinkKind, Model, Service, clean_link, utc
from console.domain.text import Line, clean, clean_data

SUMMARY_LIMIT = 1024
"""PagerDuty's own limit for ``payload.summary``."""
SOURCE_LIMIT = 255
LINKS_MAX = 20
DETAILS_LIMIT = 16_000
"""Characters of ``custom_details`` kept (as JSON); more is cut, never refused."""
GRACE = timedelta(minutes=5)
"""A change reported up to this long after an incident started still counts as a candidate
(pipelines often report a deploy a little after its rollout began)."""
PRIOR = timedelta(hours=1)
"""The KPI "incidents with a change in the prior hour": a change on the service (or one it
depends on) up to this long before an incident started counts (``had_change_before``)."""
FUTURE_SLACK = timedelta(minutes=10)
"""A change may carry a timestamp this far ahead of the receiving clock (skewed senders)."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class ChangeLinkBody(_Wire):
    href: str = Field(min_length=1, max_length=4096)
    text: str = Field(default="", max_length=1024)


class ChangePayloadBody(_Wire):
    summary: str = Field(min_length=1, max_length=SUMMARY_LIMIT)
    source: str | None = Field(default=None, max_length=SOURCE_LIMIT)
    timestamp: datetime | None = None
    custom_details: Any = None


class ChangeEventBody(_Wire):
    """The body of ``POST /v1/integrations/change`` (PagerDuty Change Events API v2)."""

    routing_key: str = Field(min_length=1, max_length=KEY_LIMIT)
    payload: ChangePayloadBody
    links: list[ChangeLinkBody] = Field(default_factory=list)

    @field_validator("links", mode="before")
    @classmethod
    def _many(cls, value: object) -> object:
        return [] if value is None else value


class NewChange(Model):
    """A change to record: what the intake route and ``incidents change record`` hand a store."""

    service: Annotated[Line, Field(min_length=1, max_length=64)]
    summary: Annotated[Line, Field(min_length=1, max_length=SUMMARY_LIMIT)]
    source: Line = ""
    at: datetime
    """When the change happened (the sender's timestamp, or the time it was received)."""
    links: tuple[Link, ...] = ()
    details: Annotated[dict[str, Any], AfterValidator(clean_data)] = Field(default_factory=dict)
    integration_id: Line | None = None

    @field_validator("links")
    @classmethod
    def _clean_links(cls, links: tuple[Link, ...]) -> tuple[Link, ...]:
        return tuple(link for link in map(clean_link, links) if link.ref)


class ChangeEvent(NewChange):
    """A stored change event."""

    id: int
    recorded_at: datetime
    recorded_by: str

    @property
    def key(self) -> str:
        return f"CHG-{self.id}"

    def link(self) -> Link:
        """The link an incident gets when a responder says this change is related."""
        return Link(kind=LinkKind.CHANGE, ref=self.key, title=self.summary[:200])


def _field_errors(exc: ValidationError) -> list[str]:
    out = []
    for item in exc.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        out.append(f"{where}: {item['msg']}")
    return out[:20]


def _details(value: Any) -> dict[str, Any]:
    """``custom_details`` cleaned for storage: strings lose control characters, the whole
    object is cut (not refused) past ``DETAILS_LIMIT`` characters of JSON."""
    import json

    if value is None:
        return {}
    cleaned = clean_data(value, text_limit=TEXT_LIMIT)
    if not isinstance(cleaned, dict):
        cleaned = {"details": cleaned}
    text = json.dumps(cleaned, default=str)
    if len(text) > DETAILS_LIMIT:
        return {"details": text[: DETAILS_LIMIT - 1] + "…", "truncated": True}
    return cleaned


def plausible_time(at: datetime, now: datetime) -> tuple[datetime, str]:
    """``at`` as an aware UTC time, and a note when it had to be replaced.

    PagerDuty takes any timestamp, so a change is never refused for its time: one in the
    future (past ``FUTURE_SLACK``, or beyond what a datetime can hold in UTC) is recorded at
    the receiving time instead, with the sender's value kept in the note. Old times are kept:
    a backfilled change simply correlates with nothing current.
    """
    try:
        when = utc(at)
    except (OverflowError, ValueError):
        return now, f"sent timestamp {at.isoformat()} is out of range; recorded at receipt"
    if when > now + FUTURE_SLACK:
        return now, f"sent timestamp {when.isoformat()} is in the future; recorded at receipt"
    return when, ""


def parse_change_event(body: bytes | str, now: datetime) -> tuple[str, NewChange]:
    """Validate a Change Events v2 body: the routing key and the change (service still blank).

    Raises ``IntakeError`` naming each bad field; nothing is stored for a refused body.
    """
    try:
        event = ChangeEventBody.model_validate_json(body)
    except ValidationError as exc:
        raise IntakeError("change event is invalid", _field_errors(exc)) from None
    payload = event.payload
    summary = clean(payload.summary, limit=SUMMARY_LIMIT).strip()
    if not summary:
        raise IntakeError("change event is invalid", ["payload.summary: nothing left to show"])
    at, note = (now, "") if payload.timestamp is None else plausible_time(payload.timestamp, now)
    details = _details(payload.custom_details)
    if note:
        details = {**details, "timestamp_note": note}
    links = [url_link(link.href, link.text) for link in event.links[:LINKS_MAX]]
    change = NewChange(
        service="-",
        summary=summary,
        source=clean(payload.source or "", limit=SOURCE_LIMIT),
        at=at,
        links=tuple(link for link in links if link is not None),
        details=details,
    )
    return clean(event.routing_key).strip(), change


def new_change(
    service: str,
    summary: str,
    *,
    now: datetime,
    source: str = "",
    at: datetime | None = None,
    links: Iterable[tuple[str, str]] = (),
    details: Mapping[str, Any] | None = None,
) -> NewChange:
    """A change from ``incidents change record`` (or any caller that is not an HTTP body),
    cleaned and checked the same way as the intake route's."""
    text = clean(summary, limit=SUMMARY_LIMIT).strip()
    if not text:
        raise IntakeError("change is invalid", ["summary: give a short description of the change"])
    when, note = (now, "") if at is None else plausible_time(at, now)
    extra = {"timestamp_note": note} if note else {}
    made = [url_link(href, title) for href, title in list(links)[:LINKS_MAX]]
    return NewChange(
        service=clean(service).strip() or "-",
        summary=text,
        source=clean(source, limit=SOURCE_LIMIT),
        at=when,
        links=tuple(link for link in made if link is not None),
        details={**_details(dict(details or {})), **extra},
    )


# --- correlation -----------------------------------------------------------------------------


def dependency_map(services: Iterable[Service]) -> dict[str, tuple[str, ...]]:
    """Service id -> the ids it depends on, from the directory (``Service.depends_on``)."""
    return {s.id: tuple(s.depends_on) for s in services if s.depends_on}


def related_services(service: str, dependencies: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """``service`` and everything it depends on (transitively), each with the path that led
    there: ``{"checkout": "", "payments": "checkout -> payments"}``. Loops are harmless."""
    found = {service: ""}
    queue = [service]
    while queue:
        current = queue.pop(0)
        for dep in dependencies.get(current, ()):
            if dep not in found:
                found[dep] = f"{found[current] or current} -> {dep}"
                queue.append(dep)
    return found


@dataclass(frozen=True, slots=True)
class Candidate:
    """A change that happened shortly before an incident, on its service or a dependency."""

    change: ChangeEvent
    before: timedelta
    """How long before the incident started (negative: shortly after)."""
    via: str = ""
    """Empty for the incident's own service, else the dependency path."""

    def describe(self) -> str:
        """``deployed 4m before this incident`` (or ``... after``), with the dependency."""
        seconds = int(self.before.total_seconds())
        when = (
            f"{span(seconds)} before this incident"
            if seconds > 0
            else (
                "at the start of this incident"
                if seconds == 0
                else f"{span(-seconds)} after it started"
            )
        )
        where = f" (on {self.change.service}, via {self.via})" if self.via else ""
        return f"deployed {when}{where}"


def candidates(
    service: str,
    started: datetime,
    changes: Iterable[ChangeEvent],
    *,
    dependencies: Mapping[str, Sequence[str]] | None = None,
    window: timedelta,
    grace: timedelta = GRACE,
) -> list[Candidate]:
    """The changes on ``service`` (or what it depends on) from ``window`` before ``started``
    to ``grace`` after, newest first."""
    scope = related_services(service, dependencies or {})
    started = utc(started)
    out = []
    for change in changes:
        if change.service not in scope:
            continue
        before = started - utc(change.at)
        if -grace <= before <= window:
            out.append(Candidate(change, before, scope[change.service]))
    out.sort(key=lambda c: (c.change.at, c.change.id), reverse=True)
    return out


def had_change_before(
    service: str,
    started: datetime,
    changes: Iterable[ChangeEvent],
    *,
    dependencies: Mapping[str, Sequence[str]] | None = None,
    window: timedelta = PRIOR,
) -> bool:
    """Whether any change on ``service`` (or a dependency) happened in ``window`` before
    ``started``: the KPI "incidents with a change in the prior hour" (``PRIOR``)."""
    return bool(
        candidates(
            service, started, changes, dependencies=dependencies, window=window, grace=timedelta(0)
        )
    )
