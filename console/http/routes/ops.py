"""Open routes for load balancers and scrapers: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from backends.base import Backend, BackendError
from console.domain.clock import Clock
from console.domain.config import Settings
from console.domain.models import IncidentQuery, Priority, Status
from console.domain.sla import is_breached
from console.http.change_stream import ChangeHub
from console.http.deps import ClockDep, HubDep, RawStoreDep, SettingsDep
from console.http.errors import error_json
from console.http.metrics import RequestMetrics, gauge
from console.http.readiness import Readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, backend: RawStoreDep) -> Response:
    """Readiness: the store answers a read within two seconds and accepts writes
    (``console.http.readiness``); otherwise 503 saying why."""
    try:
        seq = await asyncio.wait_for(backend.last_seq(), 2.0)
    except (BackendError, TimeoutError) as exc:
        message = str(exc) or "the store did not answer within 2 s"
        return error_json(503, "unavailable", f"not ready: {message}")
    readiness: Readiness | None = request.app.state.readiness
    if readiness is not None:
        problem = await readiness.problem()
        if problem is not None:
            return error_json(503, "unavailable", f"not ready: {problem}")
    return JSONResponse({"status": "ready", "last_seq": seq})


_METRICS_PAGE = 2000


@router.get("/metrics", response_class=PlainTextResponse)
async def prometheus(
    request: Request, backend: RawStoreDep, settings: SettingsDep, clock: ClockDep, hub: HubDep
) -> PlainTextResponse:
    """Prometheus text format: open incidents, breaches, requests and latency."""
    metrics: RequestMetrics = request.app.state.metrics
    lines = await _store_metrics(backend, settings, clock, hub)
    lines += metrics.render()
    return PlainTextResponse(
        "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
    )


async def _store_metrics(
    backend: Backend, settings: Settings, clock: Clock, hub: ChangeHub
) -> list[str]:
    now = clock.now()
    by: dict[tuple[str, str], int] = {
        (p.value, s.value): 0 for p in Priority for s in Status if s.is_open
    }
    breached: dict[str, int] = {p.value: 0 for p in Priority}
    # Page through the open incidents (in creation order, which a scrape does not change):
    # at 100,000 open a single list would hold every parsed incident at once.
    offset = 0
    while True:
        query = IncidentQuery(sort="age", limit=_METRICS_PAGE, offset=offset)
        incidents = await backend.list_incidents(query)
        for incident in incidents:
            by[(incident.priority.value, incident.status.value)] += 1
            if is_breached(incident, now, settings.sla):
                breached[incident.priority.value] += 1
        if len(incidents) < _METRICS_PAGE:
            break
        offset += _METRICS_PAGE
    lines = gauge(
        "incidents_open",
        "Open incidents by priority and status.",
        (({"priority": p, "status": s}, n) for (p, s), n in sorted(by.items())),
    )
    lines += gauge(
        "incidents_open_breached",
        "Open incidents that breached an SLA (response or resolution), by priority.",
        (({"priority": p}, n) for p, n in sorted(breached.items())),
    )
    lines += gauge(
        "incidents_change_seq", "The newest change feed sequence number.", [({}, hub.seq)]
    )
    lines += gauge("incidents_sse_streams", "Open server-sent event streams.", [({}, hub.streams)])
    return lines
