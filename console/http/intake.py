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

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import QueryParams, State
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

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
from console.domain.text import visible_json
from console.http.deps import AsAdmin, AsViewer, incident_ref
from console.http.errors import BodyTooLarge, error_json
from console.http.metrics import RequestMetrics
from console.http.middleware import content_length, too_large

router = APIRouter()

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="alert intake"'}


def _intake(state: State) -> IntakeStore:
    store = state.store
    intake = capabilities.intake(store)
    if intake is None:
        # Only a server over a store takes alerts in (the store owns the integrations).
        raise Unavailable(f"{store.description} takes no alerts: serve a store with --db")
    return intake


def _poke(state: State) -> None:
    state.hub.poke()


_BAD_KEY = (
    "the integration key is not valid (unknown, revoked or mistyped): "
    "see incidents integration list"
)
_UNKNOWN_ROUTING_KEY = (
    "routing_key: unknown or revoked integration key (see incidents integration list)"
)


def _bearer(header: str, key: str | None) -> str | None:
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
    return await take_alertmanager(
        request.app.state, request.headers.get("authorization", ""), key, request.body
    )


async def take_alertmanager(
    state: State, authorization: str, key: str | None, read_body: Callable[[], Awaitable[bytes]]
) -> JSONResponse:
    """``POST /v1/integrations/alertmanager`` on the app's ``state``: the key is checked
    before the body is read (``read_body``)."""
    secret = _bearer(authorization, key)
    if not secret:
        return error_json(
            401,
            "unauthorized",
            "no integration key: set http_config.authorization.credentials in "
            "alertmanager.yml, or add ?key=KEY (incidents integration create prints one)",
            _CHALLENGE,
        )
    store = _intake(state)
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
    body = await read_body()
    settings: Settings = state.settings
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
    _poke(state)
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
    return await take_event(request.app.state, request.body)


async def take_event(state: State, read_body: Callable[[], Awaitable[bytes]]) -> JSONResponse:
    """``POST /v1/integrations/events`` on the app's ``state``."""
    body = await read_body()
    settings: Settings = state.settings
    try:
        event, signal = parse_event(body, settings.intake)
    except IntakeError as exc:
        return _invalid_event(str(exc), exc.errors)
    store = _intake(state)
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
    _poke(state)
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


_TAKE: dict[str, Callable[[State, Scope, Callable[[], Awaitable[bytes]]], Awaitable[Response]]] = {
    "/v1/integrations/alertmanager": lambda state, scope, read_body: take_alertmanager(
        state, _header(scope, b"authorization"), _query_key(scope), read_body
    ),
    "/v1/integrations/events": lambda state, scope, read_body: take_event(state, read_body),
}


class FastIntake:
    """The two intake POSTs as raw ASGI, ahead of every middleware layer.

    Senders post many small webhooks, and a 1-alert webhook cost about as much to pass
    through FastAPI's stack (its error, telemetry and body-limit middleware, ours, a
    ``Request``, a send wrapper per layer) as to store. ``ConsoleApp`` hands these two
    routes here, which does what those layers did for them, once: the body limit (on
    ``Content-Length`` up front and on the bytes received), the same handler functions the
    router declares (``take_alertmanager`` / ``take_event``, so validation, keys and
    answers are the router's and the OpenAPI spec documents them), the app's exception
    handlers, ``visible_json`` on the answer, and the request metrics. An exception no
    handler takes is answered 500 and raised to the server, as Starlette's error
    middleware does.
    """

    def __init__(self, app: Any, metrics: RequestMetrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    def handles(self, scope: Scope) -> bool:
        return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in _TAKE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await self._answer(scope, receive)
            except ClientDisconnect:
                status = 499  # the sender left before its body arrived: nobody to answer
                return
            except Exception:
                await PlainTextResponse("Internal Server Error", 500)(scope, receive, send)
                raise
            status = response.status_code
            body = visible_json(bytes(response.body))
            headers = response.raw_headers
            if len(body) != len(response.body):
                size = str(len(body)).encode()
                headers = [
                    (name, size if name == b"content-length" else value) for name, value in headers
                ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
        finally:
            self.metrics.observe("POST", scope["path"], status, time.perf_counter() - started)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        length = content_length(scope)
        if length is not None and length > self.max_body:
            return too_large(length, self.max_body)
        scope["app"] = self.app

        async def read_body() -> bytes:
            return await _read_body(receive, self.max_body)

        try:
            return await _TAKE[scope["path"]](self.app.state, scope, read_body)
        except ClientDisconnect:
            raise
        except Exception as exc:
            handler = _exception_handler(self.app, exc)
            if handler is None:
                raise
            answer: Response = await handler(Request(scope, receive), exc)
            return answer


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refused with ``BodyTooLarge`` (a 413) as soon as it passes
    ``limit`` bytes, so a chunked body without a length cannot slip past it."""
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _query_key(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    return QueryParams(query).get("key") if query else None


def _exception_handler(app: Any, exc: Exception) -> Any:
    handlers = getattr(app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
