"""The API's errors: ``ApiError``, the JSON error body, field errors and the handlers.

Errors are JSON ``{"error": code, "message": text, ...}``:
401 ``unauthorized`` / 403 ``forbidden`` (saying why), 404 ``not_found``,
409 ``conflict`` (stale ``expected_version``; adds ``key``, ``expected_version``,
``current_version`` and ``changed``), 413 ``too_large``, 422 ``invalid_body`` (with
``fields``: where and what) or ``invalid_action`` (the lifecycle refused the move, e.g.
acknowledging a resolved incident; adds ``allowed`` when known: 422 because the request
is well-formed and current but not applicable, whereas 409 means "you aimed at an old
version, look again"), 503 ``unavailable`` (the store is unreachable; nothing changed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException

from backends.base import BackendError, Conflict
from console.domain.lifecycle import InvalidTransition

STATUS_CODES = {
    "not_found": 404,
    "conflict": 409,
    "invalid_action": 422,
    "unavailable": 503,
    "forbidden": 403,
    "unauthorized": 401,
    "backend_error": 500,
}
"""HTTP status by ``BackendError.code``."""

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


class ErrorBody(BaseModel):
    """Every error answer: a code, a sentence, and fields that depend on the code."""

    model_config = ConfigDict(extra="allow")

    error: str | None = None
    """``unauthorized``, ``forbidden``, ``not_found``, ``conflict``, ``invalid_body``..."""
    message: str
    """What happened and what to do, for a person."""


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    # "content" names JSON explicitly: errors are JSON on HTML and event-stream routes too.
    status: {"model": ErrorBody, "description": description, "content": {"application/json": {}}}
    for status, description in (
        (400, "the body is not JSON, or (intake) not a valid payload"),
        (401, "no token, or not a valid one"),
        (403, "the token's role may not do this"),
        (404, "no such route or record"),
        (409, "aimed at an old version"),
        (413, "the body is too large"),
        (422, "a field is invalid (named in fields), or the action does not apply"),
        (503, "the store is unavailable or cannot write; nothing changed"),
    )
}
"""Documented on every route (``console.http.app`` includes each router with these), so
the OpenAPI spec lists every status the API answers with."""


class ApiError(Exception):
    """An error the API answers with on purpose: status, code, message and extra fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra


class BodyTooLarge(HTTPException):
    """Raised from inside ``receive`` while a body streams in; FastAPI re-raises
    HTTPExceptions from body parsing, so it reaches the 413 handler intact."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def error_json(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


def invalid(field: str, message: str) -> ApiError:
    """A 422 ``invalid_body`` naming one field (``query.since``, ``body.created_at``...)."""
    return ApiError(
        422,
        "invalid_body",
        f"invalid request: {field}: {message}",
        fields=[{"field": field, "message": message, "type": "value_error"}],
    )


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list as ``[{"field": "body.title", "message": ..., "type": ...}]``."""
    fields = []
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        fields.append(
            {
                "field": ".".join(loc) or "body",
                "message": item.get("msg", ""),
                "type": item.get("type", ""),
            }
        )
    return fields


def describe_fields(fields: list[dict[str, Any]]) -> str:
    shown = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    more = f" (and {len(fields) - 5} more)" if len(fields) > 5 else ""
    return f"invalid request: {shown}{more}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = field_errors(exc.errors())
        return error_json(422, "invalid_body", describe_fields(fields), fields=fields)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        fields = field_errors(exc.errors())
        return error_json(422, "invalid_body", describe_fields(fields), fields=fields)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}: /openapi.json lists them"
        return error_json(exc.status_code, code, message, exc.headers)

    @app.exception_handler(InvalidTransition)
    async def _transition(request: Request, exc: InvalidTransition) -> JSONResponse:
        return error_json(422, "invalid_action", str(exc), key=exc.key, allowed=list(exc.allowed))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return error_json(
            409,
            "conflict",
            str(exc),
            key=exc.key,
            expected_version=exc.expected_version,
            current_version=exc.current_version,
            changed=list(exc.changed),
        )

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> JSONResponse:
        status = STATUS_CODES.get(exc.code, 500)
        headers = {"Retry-After": "1"} if status == 503 else None
        extra: dict[str, Any] = {}
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, InvalidTransition):
            extra = {"key": cause.key, "allowed": list(cause.allowed)}
        return error_json(status, exc.code, str(exc), headers, **extra)
