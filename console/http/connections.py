"""Connection limits of ``incidents serve``: what uvicorn offers, plus the two it lacks.

uvicorn's own settings do most of it and are used as they are (``console.http.serve``):
``limit_concurrency`` answers 503 to a request that arrives while too many connections are
open or requests run, ``timeout_keep_alive`` closes idle kept-alive connections, ``backlog``
bounds the kernel's accept queue, and h11's incomplete-event limit bounds header size.
Two holes remain, and both let a client that sends nothing hold a file descriptor for
ever (1,100 such sockets took every descriptor of a 1,024 limit and ``/healthz`` with
them):

- **No header-read timeout.** A fresh connection gets no timer at all, and a kept-alive
  one loses its keep-alive timer at the first byte of the next request, so a connection
  that sends nothing, or half a header, stays open. The guarded protocols arm a timer
  when a connection opens (and at the first byte after a response) and closes the
  connection unless its request's headers are complete by then.
- **The limit is checked only once a request arrives**, so connections that never send
  one are never refused, and each holds a descriptor. When a new connection brings the
  count to ``limit_concurrency``, the oldest connections that are only waiting for a
  request (sent nothing, half a header, or idle between requests) are closed to make room,
  so a client with a real request is served rather than refused because of idle sockets.

The limit itself is kept below the open-file limit (``connection_limit``), with a reserve
for the database files and outgoing webhooks, so connections never exhaust descriptors.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # httptools: a dependency

log = logging.getLogger("incidents.server")

RESERVE = 256
"""Descriptors kept free of connections (at most a quarter of the limit)."""


def raise_fd_limit() -> tuple[int, int]:
    """Raise the open-file soft limit to the hard limit; returns (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == hard:
        return soft, hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open-file limit from %d to %d: %s", soft, hard, exc)
        return soft, hard
    return hard, hard


def connection_limit(wanted: int, fd_limit: int | None = None) -> int:
    """``wanted``, lowered so connections leave ``RESERVE`` descriptors free."""
    if fd_limit is None:
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if fd_limit == resource.RLIM_INFINITY:
        return wanted
    reserve = min(RESERVE, fd_limit // 4)
    return max(1, min(wanted, fd_limit - reserve))


class Waiting:
    """The connections of one server that wait for a request, oldest first."""

    def __init__(self) -> None:
        self.connections: OrderedDict[_Guard, None] = OrderedDict()

    def add(self, protocol: _Guard) -> None:
        self.connections[protocol] = None
        self.connections.move_to_end(protocol)

    def discard(self, protocol: _Guard) -> None:
        self.connections.pop(protocol, None)

    def oldest(self, besides: _Guard) -> _Guard | None:
        for protocol in self.connections:
            if protocol is not besides:
                return protocol
        return None


class _Guard:
    """The header-read timeout and the room made by closing idle connections, on top of
    either of uvicorn's HTTP protocols (``GuardedH11Protocol``,
    ``GuardedHttpToolsProtocol``); ``protocol_class`` binds the settings."""

    header_timeout: float = 5.0
    waiting: Waiting
    # What the uvicorn protocol this is mixed into provides:
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    connections: set[Any]
    limit_concurrency: int | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.waiting.add(self)
        self._arm()
        limit = self.limit_concurrency
        if limit is not None:
            while len(self.connections) >= limit:
                idle = self.waiting.oldest(besides=self)
                if idle is None:
                    break  # every other connection is busy: uvicorn answers this one 503
                idle.close_waiting()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.waiting.discard(self)
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if self._in_request():
            self._disarm()
            self.waiting.discard(self)
        elif self._header_timer is None and not self.transport.is_closing():
            # The first byte of the next request on a kept-alive connection: uvicorn has
            # just dropped its keep-alive timer, so the header timeout takes over.
            self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and not self._in_request():
            self.waiting.add(self)

    def _in_request(self) -> bool:
        """Whether a request's headers are complete and its response is not."""
        raise NotImplementedError

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self._in_request():
            self.close_waiting()

    def close_waiting(self) -> None:
        """Close a connection that has no request in progress."""
        self._disarm()
        self.waiting.discard(self)
        if not self.transport.is_closing():
            self.transport.close()
        # Out of uvicorn's count at once, not a loop tick later when the transport reports
        # it lost: a request arriving in between must not be refused for it.
        self.connections.discard(self)


class GuardedH11Protocol(_Guard, H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol with the guards (when httptools is not installed)."""

    def _in_request(self) -> bool:
        return self.conn.their_state is not h11.IDLE or self.conn.our_state is not h11.IDLE


class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools protocol (its C parser: a third less CPU per request than h11,
    and much cheaper chunked writes for the SSE fan-out) with the guards."""

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete


def protocol_class(header_timeout: float, parser: str = "httptools") -> type[asyncio.Protocol]:
    """A guarded protocol for one server: its timeout, its own waiting list; httptools's
    parser unless ``parser`` is ``"h11"``."""
    base: type[_Guard] = GuardedHttpToolsProtocol if parser == "httptools" else GuardedH11Protocol
    made = type(
        f"Server{base.__name__}",
        (base,),
        {"header_timeout": header_timeout, "waiting": Waiting()},
    )
    return cast(type[asyncio.Protocol], made)
