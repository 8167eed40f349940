"""Open routes for load balancers and scrapers: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from backends.base import BackendError
from console.http.deps import VIEWER, BearerCredentials, HubDep, RawStoreDep, SettingsDep
from console.http.errors import error_json
from console.http.metrics import RequestMetrics, gauge
from console.http.readiness import Readiness
from console.http.store_gauges import StoreGauges

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


@router.get("/metrics", response_class=PlainTextResponse)
async def prometheus(
    request: Request,
    settings: SettingsDep,
    hub: HubDep,
    credentials: BearerCredentials,
) -> PlainTextResponse:
    """Prometheus text format: open incidents, breaches, requests and latency.

    The same cost at any number of open incidents (``console.http.store_gauges``); with
    ``server.metrics_token`` it needs a bearer token of any role."""
    if settings.server.metrics_token:
        await VIEWER(request, credentials)
    metrics: RequestMetrics = request.app.state.metrics
    gauges: StoreGauges | None = request.app.state.gauges
    lines = await gauges.lines() if gauges is not None else []
    lines += gauge(
        "incidents_change_seq", "The newest change feed sequence number.", [({}, hub.seq)]
    )
    lines += gauge("incidents_sse_streams", "Open server-sent event streams.", [({}, hub.streams)])
    lines += metrics.render()
    return PlainTextResponse(
        "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
    )
