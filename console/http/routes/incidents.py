"""``/v1/incidents``: list, count, look up, create, read, timeline, act, who is paged."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field, TypeAdapter

from console.domain.lifecycle import Action, AddNote, Escalate
from console.domain.limits import MAX_INT
from console.domain.models import (
    HistoryOrder,
    Incident,
    IncidentPage,
    IncidentQuery,
    NewIncident,
    Priority,
    SortKey,
    Status,
    TimelineEntry,
)
from console.http.deps import (
    AsAdmin,
    AsResponder,
    AsViewer,
    IdPath,
    Instant,
    SeqQuery,
    StoreDep,
    incident_ref,
)
from console.http.errors import ApiError
from console.http.responses import Body, incidents_json, json_response, model_json

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])
audit = logging.getLogger("incidents.audit")

_TIMELINE = TypeAdapter(list[TimelineEntry])


class ActRequest(Body):
    """An action on an incident, aimed at the version the caller saw."""

    action: Action
    expected_version: int = Field(ge=1, le=MAX_INT)


class BatchCreate(Body):
    incidents: list[NewIncident] = Field(min_length=1, max_length=10_000)


class Lookup(Body):
    ids: list[Annotated[int, Field(ge=0, le=MAX_INT)]] = Field(max_length=10_000)


class Count(Body):
    count: int


class Paged(Body):
    users: list[str]


def _query(
    status: list[str] | None,
    priority: list[Priority] | None,
    service: list[str] | None,
    assignee: list[str] | None,
    text: str,
    breached: bool | None,
    resolved_since: datetime | None,
    sort: SortKey,
    limit: int,
    offset: int,
    key: list[str] | None = None,
    service_prefix: list[str] | None = None,
    term: list[str] | None = None,
    escalator_due: bool = False,
) -> IncidentQuery:
    data: dict[str, Any] = {"text": text, "sort": sort, "limit": limit, "offset": offset}
    if escalator_due:
        data["escalator_due"] = True
    if key:
        data["keys"] = tuple(k.upper() for k in key)
    if service_prefix:
        data["service_prefixes"] = tuple(p.lower() for p in service_prefix)
    if term:
        data["terms"] = tuple(t.lower() for t in term if t.strip())
    if status:
        data["statuses"] = () if status == ["any"] else tuple(status)
    if priority:
        data["priorities"] = tuple(priority)
    if service:
        data["services"] = tuple(service)
    if assignee:
        data["assignees"] = tuple(a or None for a in assignee)
    if breached is not None:
        data["breached"] = breached
    if resolved_since is not None:
        data["resolved_since"] = resolved_since
    return IncidentQuery.model_validate(data)


def query_params(
    status: Annotated[
        list[str] | None,
        Query(description="repeatable; 'any' for every status (default: the open ones)"),
    ] = None,
    priority: Annotated[list[Priority] | None, Query(description="repeatable")] = None,
    service: Annotated[list[str] | None, Query(description="repeatable")] = None,
    assignee: Annotated[
        list[str] | None,
        Query(description="repeatable; an empty value selects unassigned incidents"),
    ] = None,
    text: Annotated[str, Query(max_length=500)] = "",
    breached: bool | None = None,
    resolved_since: Instant | None = None,
    sort: SortKey = "urgency",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
    offset: SeqQuery = 0,
    key: Annotated[
        list[Annotated[str, Field(max_length=40)]] | None,
        Query(description="repeatable incident key (INC-2039); several are OR-ed"),
    ] = None,
    service_prefix: Annotated[
        list[Annotated[str, Field(max_length=200)]] | None,
        Query(description="repeatable prefix of the service id; several are OR-ed"),
    ] = None,
    term: Annotated[
        list[Annotated[str, Field(max_length=200)]] | None,
        Query(
            description="repeatable word that must appear in the title, service, assignee"
            " or labels (a bare number also matches the key INC-<n>)"
        ),
    ] = None,
    escalator_due: Annotated[
        bool,
        Query(description="only incidents the automatic escalator may have to act on now"),
    ] = False,
) -> IncidentQuery:
    """The ``/v1/incidents`` query string as an ``IncidentQuery`` (``remote.py`` writes it)."""
    if status and status != ["any"]:
        known = {s.value for s in Status}
        bad = [s for s in status if s not in known]
        if bad:
            raise ApiError(
                422,
                "invalid_body",
                f"unknown status {bad[0]!r}: use {', '.join(sorted(known))} or 'any'",
                fields=[{"field": "query.status", "message": "unknown status", "type": "enum"}],
            )
    return _query(
        status,
        priority,
        service,
        assignee,
        text,
        breached,
        resolved_since,
        sort,
        limit,
        offset,
        key,
        service_prefix,
        term,
        escalator_due,
    )


QueryParams = Annotated[IncidentQuery, Depends(query_params)]


@router.get("", response_model=list[Incident])
async def list_incidents(query: QueryParams, who: AsViewer, store: StoreDep) -> Response:
    return incidents_json(await store.list_incidents(query))


@router.get("/page", response_model=IncidentPage)
async def page_incidents(
    query: QueryParams,
    who: AsViewer,
    store: StoreDep,
    order: HistoryOrder = "newest",
    after: Annotated[
        str | None,
        Query(max_length=40, description="the previous page's `next`; absent for the first"),
    ] = None,
) -> Response:
    """One page of the history (every status the query names; ``status=any`` for all), by
    id newest or oldest first, keyset-paged: follow ``next`` until it is null."""
    if query.limit > 1000:
        raise ApiError(
            422,
            "invalid_body",
            "a history page holds at most 1000 incidents",
            fields=[{"field": "query.limit", "message": "at most 1000", "type": "less_than"}],
        )
    page = await store.page_incidents(query, after, order)
    return model_json(page)


@router.get("/count", response_model=Count)
async def count_incidents(query: QueryParams, who: AsViewer, store: StoreDep) -> Count:
    return Count(count=await store.count_incidents(query))


@router.post("/lookup", response_model=list[Incident])
async def get_incidents(body: Lookup, who: AsViewer, store: StoreDep) -> Response:
    return incidents_json(await store.get_incidents(body.ids))


SYSTEM_ACTIONS = frozenset({"breach", "alert_repeated"})
"""Actions only the escalator and intake take: a token that sends one is refused."""


def _provenance(item: NewIncident, where: str) -> None:
    """Refuse what only the system may say about an incident: when it began, where it came
    from, which alert it deduplicates (reports and SLA figures are computed from them)."""
    claimed = [
        name
        for name, default in (("created_at", None), ("source", "manual"), ("dedup_key", None))
        if getattr(item, name) != default
    ]
    if claimed:
        fields = [f"{where}.{name}" for name in claimed]
        raise ApiError(
            403,
            "forbidden",
            f"{', '.join(fields)}: set by the system only (intake and the escalator); "
            "an admin backfills through POST /v1/incidents/import",
            fields=[{"field": f, "message": "set by the system only"} for f in fields],
        )


@router.post("", response_model=Incident, status_code=201)
async def create_incident(body: NewIncident, who: AsResponder, store: StoreDep) -> Response:
    _provenance(body, "body")
    return model_json(await store.create_incident(body, who.user), 201)


@router.post("/batch", response_model=list[Incident], status_code=201)
async def create_incidents(body: BatchCreate, who: AsResponder, store: StoreDep) -> Response:
    for index, item in enumerate(body.incidents):
        _provenance(item, f"body.incidents.{index}")
    return incidents_json(await store.create_incidents(body.incidents, who.user), 201)


@router.post("/import", response_model=list[Incident], status_code=201)
async def import_incidents(body: BatchCreate, who: AsAdmin, store: StoreDep) -> Response:
    """Backfill (admin): incidents with their own ``created_at``, ``source`` and
    ``dedup_key``. Audited: each gets a timeline note naming the admin, and the server log
    a line."""
    created = await store.create_incidents(body.incidents, who.user)
    audited = []
    for incident, item in zip(created, body.incidents, strict=True):
        note = AddNote(
            text=f"imported by {who.user} through /v1/incidents/import "
            f"(source {item.source}, created_at {item.created_at or 'now'}, "
            f"dedup_key {item.dedup_key or 'none'})"
        )
        audited.append(await store.act(incident.id, note, who.user, incident.version))
    audit.warning(
        "%s imported %d incidents: %s",
        who.user,
        len(created),
        ", ".join(i.key for i in created[:20]),
    )
    return incidents_json(audited, 201)


@router.get("/{ref}", response_model=Incident)
async def get_incident(ref: str, who: AsViewer, store: StoreDep) -> Response:
    return model_json(await store.get_incident(incident_ref(ref)))


@router.get("/{incident_id}/timeline", response_model=list[TimelineEntry])
async def timeline(incident_id: IdPath, who: AsViewer, store: StoreDep) -> Response:
    return json_response(_TIMELINE.dump_json(await store.timeline(incident_id)))


@router.post("/{incident_id}/actions", response_model=Incident)
async def act(incident_id: IdPath, body: ActRequest, who: AsResponder, store: StoreDep) -> Response:
    action = body.action
    if action.kind in SYSTEM_ACTIONS:
        raise ApiError(
            403,
            "forbidden",
            f"body.action.kind: {action.kind!r} is taken by the system only "
            "(the escalator marks breaches, intake counts repeated alerts)",
            fields=[{"field": "body.action.kind", "message": "set by the system only"}],
        )
    if isinstance(action, Escalate) and action.automatic:
        # "automatic" claims the escalator as the actor; over HTTP the actor is the
        # token's user, so the timeline says who really escalated.
        action = action.model_copy(update={"automatic": False})
    incident = await store.act(incident_id, action, who.user, body.expected_version)
    return model_json(incident)


@router.get("/{incident_id}/paged", response_model=Paged)
async def paged_now(
    incident_id: IdPath, who: AsViewer, store: StoreDep, at: Instant | None = None
) -> Paged:
    return Paged(users=await store.paged_now(incident_id, at))
