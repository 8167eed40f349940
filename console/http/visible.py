"""Pure ASGI middleware: no JSON the server sends carries a control or invisible character
raw.

Text is cleaned as it comes in (``console.domain.text``); this is the guard on the way out,
for what a store holds from before that rule, or was written around the API (a shared
SQLite file). Each such character leaves as a ``\\uXXXX`` escape (``visible_json``): the
same document to a JSON reader, nothing a terminal acts on (a C1 CSI, an OSC) or hides (a
right-to-left override, a zero-width space) for a person reading it with ``curl``. JSON
bodies and server-sent event streams (whose data lines are JSON) are both covered.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.domain.text import visible_json

_JSON = (b"application/json", b"application/problem+json")
_STREAM = b"text/event-stream"


def _kind(message: Message) -> str:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            if media in _JSON or media.endswith(b"+json"):
                return "json"
            if media == _STREAM:
                return "stream"
            return ""
    return ""


class VisibleJson:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = ""
        start: Message | None = None
        parts: list[bytes] = []

        async def send_visible(message: Message) -> None:
            nonlocal kind, start
            if message["type"] == "http.response.start":
                kind = _kind(message)
                if kind == "json":
                    start = message  # held until the body is known: its length changes
                    return
                await send(message)
                return
            if message["type"] != "http.response.body" or not kind:
                await send(message)
                return
            if kind == "stream":
                body = message.get("body", b"")
                await send({**message, "body": visible_json(body)} if body else message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = visible_json(b"".join(parts))
            assert start is not None
            headers = MutableHeaders(scope=start)
            if "content-length" in headers:
                headers["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_visible)
