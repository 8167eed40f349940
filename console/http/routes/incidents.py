"""``/v1/incidents``: list, count, look up, create, read, timeline, act, who is paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field, TypeAdapter

from console.domain.lifecycle import Action, Escalate
from console.domain.models import (
    Incident,
    IncidentQuery,
    NewIncident,
    Priority,
    SortKey,
    Status,
    TimelineEntry,
)
from console.http.deps import AsResponder, AsViewer, StoreDep
from console.http.errors import ApiError
from console.http.responses import Body, incidents_json, json_response, model_json

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

_TIMELINE = TypeAdapter(list[TimelineEntry])


class ActRequest(Body):
    """An action on an incident, aimed at the version the caller saw."""

    action: Action
    expected_version: int = Field(ge=1)


class BatchCreate(Body):
    incidents: list[NewIncident] = Field(min_length=1, max_length=10_000)


class Lookup(Body):
    ids: list[int] = Field(max_length=10_000)


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
) -> IncidentQuery:
    data: dict[str, Any] = {"text": text, "sort": sort, "limit": limit, "offset": offset}
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
    resolved_since: datetime | None = None,
    sort: SortKey = "urgency",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
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
        status, priority, service, assignee, text, breached, resolved_since, sort, limit, offset
    )


QueryParams = Annotated[IncidentQuery, Depends(query_params)]


def _ref(ref: str) -> int | str:
    return int(ref) if ref.isdigit() else ref


@router.get("", response_model=list[Incident])
async def list_incidents(query: QueryParams, who: AsViewer, store: StoreDep) -> Response:
    return incidents_json(await store.list_incidents(query))


@router.get("/count", response_model=Count)
async def count_incidents(query: QueryParams, who: AsViewer, store: StoreDep) -> Count:
    return Count(count=await store.count_incidents(query))


@router.post("/lookup", response_model=list[Incident])
async def get_incidents(body: Lookup, who: AsViewer, store: StoreDep) -> Response:
    return incidents_json(await store.get_incidents(body.ids))


@router.post("", response_model=Incident, status_code=201)
async def create_incident(body: NewIncident, who: AsResponder, store: StoreDep) -> Response:
    return model_json(await store.create_incident(body, who.user), 201)


@router.post("/batch", response_model=list[Incident], status_code=201)
async def create_incidents(body: BatchCreate, who: AsResponder, store: StoreDep) -> Response:
    return incidents_json(await store.create_incidents(body.incidents, who.user), 201)


@router.get("/{ref}", response_model=Incident)
async def get_incident(ref: str, who: AsViewer, store: StoreDep) -> Response:
    return model_json(await store.get_incident(_ref(ref)))


@router.get("/{incident_id}/timeline", response_model=list[TimelineEntry])
async def timeline(incident_id: int, who: AsViewer, store: StoreDep) -> Response:
    return json_response(_TIMELINE.dump_json(await store.timeline(incident_id)))


@router.post("/{incident_id}/actions", response_model=Incident)
async def act(incident_id: int, body: ActRequest, who: AsResponder, store: StoreDep) -> Response:
    action = body.action
    if isinstance(action, Escalate) and action.automatic:
        # "automatic" claims the escalator as the actor; over HTTP the actor is the
        # token's user, so the timeline says who really escalated.
        action = action.model_copy(update={"automatic": False})
    incident = await store.act(incident_id, action, who.user, body.expected_version)
    return model_json(incident)


@router.get("/{incident_id}/paged", response_model=Paged)
async def paged_now(
    incident_id: int, who: AsViewer, store: StoreDep, at: datetime | None = None
) -> Paged:
    return Paged(users=await store.paged_now(incident_id, at))
