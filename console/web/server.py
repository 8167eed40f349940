"""textual-serve, bounded: one console process per browser session, a limit, idle sessions
ended, and each session's start time and memory logged.

textual-serve starts the command once per browser websocket (the process runs Textual's web
driver and speaks its packet protocol over stdin/stdout). This subclass keeps a table of the
live sessions: past ``max_sessions`` the page answers 503 and the websocket is refused before
any process starts; a session without keyboard or mouse input for ``idle_seconds`` is closed,
which ends its process; a dead browser is noticed by aiohttp's websocket heartbeat. Nothing
here knows about incidents: the command decides what runs (``console.cli.web`` builds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

log = logging.getLogger("incidents.web")

HEARTBEAT_SECONDS = 15.0
STOP_SECONDS = 10.0
"""How long a session's process gets to quit before it is killed."""


@dataclass
class Session:
    number: int
    opened: float = field(default_factory=time.monotonic)
    first_byte: float | None = None
    last_input: float = field(default_factory=time.monotonic)
    pids: tuple[int, ...] = ()


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = entry.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def rss_bytes(pids: Sequence[int]) -> int:
    """Resident memory of ``pids`` together (VmRSS from /proc)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


class ConsoleServer(Server):
    """A textual-serve ``Server`` with a session limit and an idle timeout."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        title: str,
        public_url: str | None = None,
        max_sessions: int = 8,
        idle_seconds: float | None = 900.0,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds if idle_seconds and idle_seconds > 0 else None
        self.sessions: dict[int, Session] = {}
        self._numbers = 0

    def _full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    def _busy_text(self) -> str:
        return (
            f"All {self.max_sessions} browser sessions of this console are in use. "
            "Close one (or wait for an idle one to end) and reload this page."
        )

    async def handle_index(self, request: web.Request) -> Any:
        if self._full():
            return web.Response(status=503, text=self._busy_text(), headers={"Retry-After": "30"})
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
        if self._full():
            await websocket.prepare(request)
            await websocket.close(code=1013, message=b"too many sessions")
            return websocket
        self._numbers += 1
        session = Session(self._numbers)
        self.sessions[session.number] = session
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)

        async def write_bytes(data: bytes) -> None:
            if session.first_byte is None:
                # Idle time counts from the first screen, not from a slow start.
                session.first_byte = session.last_input = time.monotonic()
                self._report(session, "started")
            await websocket.send_bytes(data)

        async def close() -> None:
            await websocket.close()

        service: AppService | None = None
        watchdog: asyncio.Task[None] | None = None
        try:
            await websocket.prepare(request)
            before = set(children(os.getpid()))
            service = AppService(
                self.command,
                write_bytes=write_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await service.start(width, height)
            new = [pid for pid in children(os.getpid()) if pid not in before]
            session.pids = tuple(new)
            if self.idle_seconds is not None:
                watchdog = asyncio.create_task(self._watch_idle(session, websocket))
            await self._pump(websocket, service, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one broken session must not stop the server
            log.exception("session %d failed: %s", session.number, error)
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if service is not None:
                await self._stop(service, session)
            self.sessions.pop(session.number, None)
            log.info("session %d ended (%d open)", session.number, len(self.sessions))
        return websocket

    async def _pump(
        self, websocket: web.WebSocketResponse, service: AppService, session: Session
    ) -> None:
        """Browser to process, as textual-serve does, noting when the person last did something."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = message.json()
            if not isinstance(envelope, list) or not envelope:
                continue
            kind = envelope[0]
            data = envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                session.last_input = time.monotonic()
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                session.last_input = time.monotonic()
                await service.set_terminal_size(
                    _int(data.get("width"), 80), _int(data.get("height"), 24)
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _watch_idle(self, session: Session, websocket: web.WebSocketResponse) -> None:
        assert self.idle_seconds is not None
        step = min(30.0, max(0.5, self.idle_seconds / 4))
        while True:
            await asyncio.sleep(step)
            if session.first_byte is None:
                continue  # still starting (a loaded machine): not idle yet
            if time.monotonic() - session.last_input >= self.idle_seconds:
                log.info("session %d idle for %.0f s: ending it", session.number, self.idle_seconds)
                await websocket.close(code=1000, message=b"idle")
                return

    async def _stop(self, service: AppService, session: Session) -> None:
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await service.stop()
        except TimeoutError:
            log.warning(
                "session %d did not quit in %.0f s: killing it", session.number, STOP_SECONDS
            )
            for pid in (*session.pids, *[d for p in session.pids for d in descendants(p)]):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, 9)

    def _report(self, session: Session, what: str) -> None:
        pids = [*session.pids, *[d for p in session.pids for d in descendants(p)]]
        first = (session.first_byte or time.monotonic()) - session.opened
        log.info(
            "session %d %s: first screen after %.0f ms, %.1f MB resident, %d of %d sessions",
            session.number,
            what,
            first * 1000,
            rss_bytes(pids) / 1e6,
            len(self.sessions),
            self.max_sessions,
        )


def _int(value: object, default: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return number if 0 < number < 10_000 else default
