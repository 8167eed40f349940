"""Pure ASGI middleware of ``incidents serve``: request metrics and the body size limit."""

from __future__ import annotations

import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.http.errors import BodyTooLarge, error_json
from console.http.metrics import RequestMetrics


class Instrument:
    """Pure ASGI middleware: request metrics by route template, and the body size limit.

    Pure ASGI (not ``BaseHTTPMiddleware``) so streaming responses pass straight through.
    The limit is checked on ``Content-Length`` up front and on the bytes actually received,
    so a chunked body without a length cannot slip past it.
    """

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                record()
            await send(message)

        length = content_length(scope)
        if length is not None and length > self.max_body:
            status = 413
            await too_large(length, self.max_body)(scope, receive, send_wrapper)
            return

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        try:
            await self.app(scope, receive_limited, send_wrapper)
        finally:
            record()


def too_large(length: int, max_body: int) -> JSONResponse:
    """The 413 of a request whose ``Content-Length`` is over the limit."""
    return error_json(
        413,
        "too_large",
        f"the request body ({length} bytes) is larger than the limit of {max_body} bytes",
    )


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
