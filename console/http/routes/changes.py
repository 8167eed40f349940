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

from console.domain.limits import MAX_INT, parse_id
from console.domain.models import Change
from console.http.change_stream import EventStream
from console.http.deps import AsViewer, HubDep, RawStoreDep, SeqQuery, StoreDep
from console.http.errors import invalid
from console.http.responses import Body, json_response

router = APIRouter(prefix="/v1", tags=["changes"])

_CHANGES = TypeAdapter(list[Change])


class Seq(Body):
    seq: int


@router.get("/changes", response_model=list[Change])
async def changes(
    who: AsViewer,
    store: StoreDep,
    since: SeqQuery = 0,
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
    since: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="resume after this seq")
    ] = None,
    ping: Annotated[float, Query(ge=0.5, le=300, description="seconds between keep-alives")] = 15.0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    start = since
    if last_event_id:
        seq = parse_id(last_event_id)
        if seq is None:
            shown = last_event_id if len(last_event_id) <= 40 else last_event_id[:40] + "..."
            raise invalid(
                "header.last-event-id",
                f"must be a change seq (a number of at most 19 digits), not {shown!r}",
            )
        start = seq
    if start is None:
        start = await store.last_seq()
    return EventStream(
        hub,
        backend,
        start,
        ping,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
