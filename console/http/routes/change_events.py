"""Change events and presence over HTTP.

- ``POST /v1/integrations/change``: a PagerDuty Change Events API v2 body; the key is the
  body's ``routing_key`` (an integration of kind ``change``, or an ``events`` one: PagerDuty
  takes the same key for both). Answers 202 ``{"status": "success", "message": "Change event
  processed"}`` like PagerDuty, or 400 ``{"status": "invalid event", "message", "errors"}``
  naming each bad field; nothing is stored for a refused body.
- ``POST /v1/change-events`` (responder): record a change as the token's user (what
  ``incidents change record --backend`` and the remote client use).
- ``GET /v1/change-events?service=&since=&until=&limit=`` (viewer): newest first.
- ``PUT /v1/presence/{console}``, ``DELETE /v1/presence/{console}``, ``GET /v1/presence``,
  ``GET /v1/presence/stream`` (viewer): presence announcements, always as the token's user;
  the stream sends a ``presence`` event with every live announcement each time they change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import TypeAdapter

from backends import capabilities
from backends.base import Backend
from backends.capabilities import ChangeLog, PresenceBoard
from console.domain.changes import ChangeEvent, NewChange, parse_change_event, plausible_time
from console.domain.intake import IntakeError
from console.domain.presence import Presence
from console.http.change_stream import ChangeHub
from console.http.deps import AsResponder, AsViewer, HubDep, Instant, RawStoreDep, StoreDep
from console.http.errors import ApiError
from console.http.responses import model_json

router = APIRouter(tags=["changes"])

_EVENTS = TypeAdapter(list[ChangeEvent])
_PRESENCE = TypeAdapter(list[Presence])


def _log(store: Backend) -> ChangeLog:
    found = capabilities.changes(store)
    if found is None:
        raise ApiError(501, "not_supported", "this server's store does not keep change events")
    return found


def _board(store: Backend) -> PresenceBoard:
    found = capabilities.presence(store)
    if found is None:
        raise ApiError(501, "not_supported", "this server's store does not keep presence")
    return found


def _invalid(message: str, errors: list[str]) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": message, "errors": errors}, status_code=400
    )


@router.post("/v1/integrations/change", status_code=202, tags=["intake"])
async def change_intake(request: Request, store: StoreDep) -> JSONResponse:
    """Take in one change event (PagerDuty Change Events API v2)."""
    body = await request.body()
    now = request.app.state.clock.now()
    try:
        routing_key, change = parse_change_event(body, now)
    except IntakeError as exc:
        return _invalid(str(exc), exc.errors)
    intake = capabilities.intake(request.app.state.store)
    if intake is None:
        raise ApiError(501, "not_supported", "this server's store takes no integrations")
    integration = await intake.integration_for_key(routing_key)
    if integration is None:
        return _invalid(
            "change event is invalid",
            ["routing_key: unknown or revoked integration key (see incidents integration list)"],
        )
    if integration.kind not in ("change", "events"):
        return _invalid(
            "change event is invalid",
            [
                f"routing_key: integration {integration.id} is an {integration.kind} "
                f"integration; post to /v1/integrations/{integration.kind} instead"
            ],
        )
    change = change.model_copy(
        update={"service": integration.service, "integration_id": integration.id}
    )
    await _log(store).record_change_event(change, integration.actor)
    return JSONResponse({"status": "success", "message": "Change event processed"}, status_code=202)


@router.post("/v1/change-events", response_model=ChangeEvent, status_code=201)
async def record_change(
    body: NewChange, who: AsResponder, store: StoreDep, request: Request
) -> Response:
    now = request.app.state.clock.now()
    at, note = plausible_time(body.at, now)
    details = {**body.details, "timestamp_note": note} if note else body.details
    change = body.model_copy(update={"at": at, "details": details, "integration_id": None})
    return model_json(await _log(store).record_change_event(change, who.user), 201)


@router.get("/v1/change-events", response_model=list[ChangeEvent])
async def list_changes(
    who: AsViewer,
    store: RawStoreDep,
    service: Annotated[list[str] | None, Query()] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    found = await _log(store).change_events(services=service, since=since, until=until, limit=limit)
    return Response(_EVENTS.dump_json(found), media_type="application/json")


@router.put("/v1/presence/{console}", status_code=204)
async def announce(console: str, body: Presence, who: AsViewer, store: RawStoreDep) -> Response:
    if body.console != console:
        raise ApiError(
            422,
            "invalid_body",
            "the console id in the path and the body differ",
            fields=[{"field": "body.console", "message": "must match the path"}],
        )
    # Always the token's user: a console cannot announce someone else.
    await _board(store).announce(body.model_copy(update={"user": who.user}))
    return Response(status_code=204)


@router.delete("/v1/presence/{console}", status_code=204)
async def leave(console: str, who: AsViewer, store: RawStoreDep) -> Response:
    board = _board(store)
    mine = [p for p in await board.present() if p.console == console and p.user == who.user]
    if mine:
        await board.leave(console)
    return Response(status_code=204)


@router.get("/v1/presence", response_model=list[Presence])
async def present(who: AsViewer, store: RawStoreDep) -> Response:
    return Response(
        _PRESENCE.dump_json(await _board(store).present()), media_type="application/json"
    )


async def _presence_stream(board: PresenceBoard, hub: ChangeHub, ping: float) -> AsyncIterator[str]:
    """Snapshots as ``presence`` events; pings in between; ends when the server stops."""
    updates = board.watch_presence()
    pending: asyncio.Future[list[Presence]] | None = None
    quiet = 0.0
    step = min(ping, 0.5)  # how soon a shutdown ends the stream
    try:
        yield "retry: 2000\n: connected\n\n"
        while not hub.closed:
            if pending is None:
                pending = asyncio.ensure_future(anext(updates))
            done, _ = await asyncio.wait({pending}, timeout=step)
            if not done:
                quiet += step
                if quiet >= ping:
                    quiet = 0.0
                    yield ": ping\n\n"
                continue
            snapshot = pending.result()
            pending, quiet = None, 0.0
            data = json.dumps([p.model_dump(mode="json") for p in snapshot])
            yield f"event: presence\ndata: {data}\n\n"
    finally:
        if pending is not None:
            pending.cancel()
        await updates.aclose()


@router.get(
    "/v1/presence/stream",
    responses={200: {"content": {"text/event-stream": {}}, "description": "presence events"}},
)
async def presence_stream(
    who: AsViewer,
    store: RawStoreDep,
    hub: HubDep,
    ping: Annotated[float, Query(ge=0.05, le=300)] = 15.0,
) -> StreamingResponse:
    return StreamingResponse(
        _presence_stream(_board(store), hub, ping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
