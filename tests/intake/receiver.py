"""A real HTTP receiver on a loopback port (plain asyncio, no framework) for webhook tests.

It answers the first ``fail_first`` requests with ``fail_status``, can stall every answer
by ``delay`` seconds or until ``hold`` is set, and keeps every request body it got. Like a
receiver that honours ``Idempotency-Key``, it acts on each key once: ``arrived`` has the key
of every request as it came in, ``keys`` and ``requests`` those it accepted (answered 2xx or
would have, had the sender still been there), ``once()`` the bodies with duplicate keys
dropped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Receiver:
    fail_first: int = 0
    fail_status: int = 503
    delay: float = 0.0
    hold: asyncio.Event | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    arrived: list[str] = field(default_factory=list)
    attempts: int = 0
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/T000/B000/secretpath"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        # Stalled handlers would keep wait_closed() waiting; they are cancelled with the loop.

    def once(self) -> dict[str, dict[str, Any]]:
        """The accepted bodies by idempotency key, each key once (the first copy)."""
        out: dict[str, dict[str, Any]] = {}
        for key, body in zip(self.keys, self.requests, strict=True):
            out.setdefault(key, body)
        return out

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.attempts += 1
                key = headers.get("idempotency-key", "")
                self.arrived.append(key)
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.hold is not None:
                    await self.hold.wait()
                if self.attempts <= self.fail_first:
                    status, text = self.fail_status, b"try later"
                else:
                    status, text = 200, b"ok"
                    self.requests.append(json.loads(body))
                    self.keys.append(key)
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: {len(text)}\r\n"
                    "Content-Type: text/plain\r\n\r\n".encode()
                    + text
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
