"""The change feed: ``/v1/changes``, ``/v1/changes/last`` and the live ``/v1/stream``.

``GET /v1/stream`` is a server-sent event stream of the change feed: ``id`` is the change
``seq``, ``event: change``, ``data`` the ``Change`` as JSON. A reconnecting client sends
``Last-Event-ID`` (or ``?since=``) and gets everything after it, from memory or from the
store, then live changes; ``: ping`` comment lines keep idle connections alive. Streams end
when the server shuts down, so SIGTERM stops it within a second or two.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import TypeAdapter

from console.domain.models import Change
from console.http.change_stream import EventStream, follow
from console.http.deps import AsViewer, HubDep, RawStoreDep, StoreDep
from console.http.errors import ApiError
from console.http.responses import Body, json_response

router = APIRouter(prefix="/v1", tags=["changes"])

_CHANGES = TypeAdapter(list[Change])


class Seq(Body):
    seq: int


@router.get("/changes", response_model=list[Change])
async def changes(
    who: AsViewer,
    store: StoreDep,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    return json_response(_CHANGES.dump_json(await store.changes(since, limit)))


@router.get("/changes/last", response_model=Seq)
async def last_seq(who: AsViewer, store: StoreDep) -> Seq:
    return Seq(seq=await store.last_seq())


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "change events"}},
)
async def stream(
    who: AsViewer,
    store: StoreDep,
    backend: RawStoreDep,
    hub: HubDep,
    since: Annotated[int | None, Query(ge=0, description="resume after this seq")] = None,
    ping: Annotated[float, Query(ge=0.5, le=300, description="seconds between keep-alives")] = 15.0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    start = since
    if last_event_id:
        if not last_event_id.strip().isdigit():
            raise ApiError(
                422,
                "invalid_body",
                f"Last-Event-ID must be a change seq (a number), not {last_event_id!r}",
                fields=[{"field": "header.last-event-id", "message": "not a number"}],
            )
        start = int(last_event_id)
    if start is None:
        start = await store.last_seq()
    return EventStream(
        follow(hub, backend, start, ping),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
