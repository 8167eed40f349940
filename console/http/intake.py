"""The alert intake routes of ``incidents serve`` (included by ``console.http.app``).

- ``POST /v1/integrations/alertmanager``: Alertmanager's webhook (version 4). The key comes
  as ``Authorization: Bearer KEY`` (Alertmanager's ``http_config.authorization``) or
  ``?key=KEY``. Answers 200 with what happened once everything is committed.
- ``POST /v1/integrations/events``: a PagerDuty Events API v2 style event; the key is the
  body's ``routing_key``. Answers like that API: 202
  ``{"status": "success", "message": ..., "dedup_key": ...}``, or 400
  ``{"status": "invalid event", "message": ..., "errors": [...]}``.
- ``GET /v1/incidents/{ref}/alerts`` (viewer): the alerts grouped into an incident.
- ``GET /v1/deliveries`` (admin): the outgoing ChatOps webhook delivery log.

A 2xx means the batch is committed (one transaction, the store's ``IntakeStore.ingest``). A malformed
body, wrong types, a missing field, an unknown or revoked key, or too many alerts get a 4xx
and store nothing; the store being unreachable gets a 503 (Alertmanager retries those).

The ChatOps notifier runs with the escalator in ``console.services.automation`` (on the leader).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backends import capabilities
from backends.base import Unauthorized, Unavailable
from backends.capabilities import IntakeStore
from console.domain.config import Settings
from console.domain.intake import (
    Alert,
    IntakeError,
    Integration,
    TooLarge,
    parse_alertmanager,
    parse_event,
)
from console.http.deps import AsAdmin, AsViewer, incident_ref
from console.http.errors import error_json

router = APIRouter()

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="alert intake"'}


def _intake(request: Request) -> IntakeStore:
    store = request.app.state.store
    intake = capabilities.intake(store)
    if intake is None:
        # Only a server over a store takes alerts in (the store owns the integrations).
        raise Unavailable(f"{store.description} takes no alerts: serve a store with --db")
    return intake


def _poke(request: Request) -> None:
    request.app.state.hub.poke()


_BAD_KEY = (
    "the integration key is not valid (unknown, revoked or mistyped): "
    "see incidents integration list"
)
_UNKNOWN_ROUTING_KEY = (
    "routing_key: unknown or revoked integration key (see incidents integration list)"
)


def _bearer(request: Request, key: str | None) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return key.strip() if key else None


@router.post("/v1/integrations/alertmanager", tags=["intake"])
async def alertmanager(
    request: Request,
    key: Annotated[str | None, Query(description="the integration key, if not a bearer")] = None,
) -> JSONResponse:
    """Take in an Alertmanager webhook (version 4): one transaction for all its alerts."""
    secret = _bearer(request, key)
    if not secret:
        return error_json(
            401,
            "unauthorized",
            "no integration key: set http_config.authorization.credentials in "
            "alertmanager.yml, or add ?key=KEY (incidents integration create prints one)",
            _CHALLENGE,
        )
    store = _intake(request)
    integration = await store.integration_for_key(secret)
    if integration is None:
        return error_json(401, "unauthorized", _BAD_KEY, _CHALLENGE)
    if integration.kind != "alertmanager":
        return error_json(
            403,
            "forbidden",
            f"integration {integration.id} is an {integration.kind} integration: "
            f"post to /v1/integrations/{integration.kind} instead",
        )
    body = await request.body()
    settings: Settings = request.app.state.settings
    try:
        hook, signals = parse_alertmanager(body, settings.intake)
    except TooLarge as exc:
        return error_json(413, "too_large", str(exc))
    except IntakeError as exc:
        return error_json(
            400, "invalid_body", f"{exc}: {'; '.join(exc.errors[:5])}", errors=exc.errors
        )
    try:
        result = await store.ingest(integration, signals)
    except Unauthorized:  # revoked after the check above; nothing was stored
        return error_json(401, "unauthorized", _BAD_KEY, _CHALLENGE)
    _poke(request)
    return JSONResponse(
        {
            "status": "success",
            "message": f"{len(signals)} alerts processed",
            "integration": integration.id,
            "alerts": len(signals),
            "truncated_alerts": hook.truncatedAlerts,
            "created": list(result.created),
            "updated": list(result.updated),
            "dropped": result.dropped,
        }
    )


def _invalid_event(message: str, errors: list[str], status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": message, "errors": errors}, status_code=status
    )


@router.post("/v1/integrations/events", status_code=202, tags=["intake"])
async def events(request: Request) -> JSONResponse:
    """Take in one Events v2 event (trigger / acknowledge / resolve)."""
    body = await request.body()
    settings: Settings = request.app.state.settings
    try:
        event, signal = parse_event(body, settings.intake)
    except IntakeError as exc:
        return _invalid_event(str(exc), exc.errors)
    store = _intake(request)
    integration: Integration | None = await store.integration_for_key(event.routing_key)
    if integration is None:
        return _invalid_event("Event object is invalid", [_UNKNOWN_ROUTING_KEY])
    if integration.kind != "events":
        return _invalid_event(
            "Event object is invalid",
            [
                f"routing_key: integration {integration.id} is an {integration.kind} "
                f"integration; post to /v1/integrations/{integration.kind} instead"
            ],
        )
    try:
        result = await store.ingest(integration, [signal])
    except Unauthorized:  # revoked after the check above; nothing was stored
        return _invalid_event("Event object is invalid", [_UNKNOWN_ROUTING_KEY])
    _poke(request)
    return JSONResponse(
        {"status": "success", "message": result.message(), "dedup_key": signal.alert_key},
        status_code=202,
    )


@router.get("/v1/incidents/{ref}/alerts", response_model=list[Alert], tags=["incidents"])
async def incident_alerts(ref: str, request: Request, who: AsViewer) -> JSONResponse:
    """The alerts grouped into an incident (by id or key), oldest first."""
    store = request.app.state.store
    incident = await store.get_incident(incident_ref(ref))
    alerts = await store.alerts(incident.id)
    return JSONResponse([alert.model_dump(mode="json") for alert in alerts])


@router.get("/v1/deliveries", tags=["notify"])
async def deliveries(
    request: Request,
    who: AsAdmin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """The newest outgoing webhook deliveries: target, event, status, attempts, last error."""
    from console.services.notifier import deliveries as delivery_log

    rows = await delivery_log(request.app.state.store, limit)
    return JSONResponse([row.model_dump(mode="json") for row in rows])


class _Route:
    """What ``Instrument`` reads from ``scope["route"]`` to label its metrics."""

    def __init__(self, path: str) -> None:
        self.path = path


_FAST: dict[str, Callable[[Request], Awaitable[Response]]] = {
    "/v1/integrations/alertmanager": lambda request: alertmanager(
        request, request.query_params.get("key")
    ),
    "/v1/integrations/events": events,
}
_FAST_ROUTES = {path: _Route(path) for path in _FAST}


class IntakeFastPath:
    """Pure ASGI: the two intake POSTs go straight to their handlers.

    A 1-alert webhook costs about as much to route through FastAPI (dependency solving,
    matching across every router, the exception middleware) as to store, and senders post
    many of them; this skips that machinery and calls the same handler functions the
    router declares (so the OpenAPI spec still documents them). Installed inside
    ``Instrument``, so metrics and the body limit apply; an exception is answered by the
    app's own exception handlers, exactly as on the router.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = _FAST.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = _FAST_ROUTES[scope["path"]]
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            answer = _exception_handler(scope["app"], exc)
            if answer is None:
                raise
            response = await answer(request, exc)
        await response(scope, receive, send)


def _exception_handler(app: Any, exc: Exception) -> Any:
    handlers = getattr(app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
