"""``/v1/stats``: KPIs (``console.domain.kpis``; the same numbers as the store's own stats)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from backends.base import InvalidAction
from console.domain.kpis import Kpis, ReportError, stats_window
from console.http.deps import AsViewer, Instant, StoreDep
from console.http.responses import model_json

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get("/stats", response_model=Kpis)
async def stats(
    who: AsViewer,
    store: StoreDep,
    since: Annotated[
        str, Query(description="window: 24h, 7d, 30d or seconds", max_length=40)
    ] = "7d",
    service: str | None = None,
    team: str | None = None,
    now: Instant | None = None,
) -> Response:
    try:
        window = stats_window(since)
    except ReportError as exc:
        raise InvalidAction(str(exc)) from None
    return model_json(await store.stats(window, service=service, team=team, now=now))
