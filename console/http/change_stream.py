"""The live change stream of ``incidents serve``: one reader of the change feed, many streams.

``ChangeHub`` follows the store's change feed and keeps the newest changes in memory;
``follow()`` is the body of one ``GET /v1/stream`` response (server-sent events);
``NotifyingBackend`` wraps the store so every mutation made through the server wakes the hub
at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
from collections import deque
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from backends.base import Backend, BackendError
from console.domain.models import Change

log = logging.getLogger("incidents.server")

MUTATING_METHODS = frozenset(
    {
        "create_incident",
        "create_incidents",
        "act",
        "put_service",
        "put_user",
        "put_team",
        "put_policy",
        "put_schedule",
        "apply_directory",
        "record_change_event",
    }
)


class ChangeHub:
    """One reader of the store's change feed, fanned out to every SSE stream.

    It fetches ``changes(seq)`` when poked (after every mutation made through this server,
    so a change reaches the streams in milliseconds) or every ``poll`` seconds (to catch
    writers in other processes: a local console, ``incidents`` CLI commands). The newest
    ``keep`` changes stay in memory so streams rarely touch the store; a stream resuming from
    further back reads the store itself.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        poll: float = 0.25,
        keep: int = 5000,
        coalesce: float = 0.005,
        listen: bool = False,
    ) -> None:
        self.backend = backend
        self.listen = listen
        """Also follow ``backend.watch()`` and poke on each change: with replicas (other
        servers writing the same store, which wakes watchers at once, e.g. PostgreSQL's
        LISTEN/NOTIFY) a change made elsewhere reaches the streams without waiting a poll."""
        self._listener: asyncio.Task[None] | None = None
        self.poll = poll
        self.coalesce = coalesce
        """After a poke, wait this long for more: a burst of writes costs one read of the
        feed and reaches each stream as one batch (one write per stream)."""
        self.seq = 0
        self.floor = 0
        """Every change with ``seq > floor`` up to ``seq`` is in ``buffer``."""
        self.buffer: deque[Change] = deque()
        self.frames: deque[bytes] = deque()
        """``buffer``'s changes as SSE frames, each serialised once for every stream."""
        self._joined: dict[int, bytes] = {}
        """Frames after a seq, joined, for the current ``seq``: streams at the same place
        (nearly all of them, live) share one bytes object and one socket write each."""
        self.keep = keep
        self.closed = False
        self.streams = 0
        self._event = asyncio.Event()
        self._waiters: list[asyncio.Future[None]] = []
        """One future per stream waiting in ``EventStream``, all completed by the next batch
        (cheaper than ``asyncio.Event.wait``: no removal from a shared list per wake-up)."""
        self._poke = asyncio.Event()
        self._listened = asyncio.Event()
        """Set while at least one stream is open (see ``_run``)."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seq = self.floor = await self.backend.last_seq()
        self._task = asyncio.create_task(self._run(), name="change-hub")
        if self.listen:
            self._listener = asyncio.create_task(self._follow(), name="change-hub-listen")

    async def _follow(self) -> None:
        """Poke on every change the store's watch reports, while at least one stream is
        open. With none open a poke does nothing (``_run`` waits for a stream, then reads
        the feed from ``seq``), and on SQLite the watch reads the feed after every commit,
        this server's own included: an intake burst then paid one read per webhook for
        nobody. The watch stops when the last stream ends and starts again with the next."""
        while not self.closed:
            await self._listened.wait()
            changes = self.backend.watch()
            try:
                async for _ in changes:
                    self.poke()
                    if self.closed:
                        return
                    if not self._listened.is_set():
                        break
                else:
                    return  # the store closed
            except BackendError as exc:
                log.warning("change feed wake-ups lost, polling meanwhile: %s", exc)
                await asyncio.sleep(1.0)
            finally:
                close = getattr(changes, "aclose", None)
                if close is not None:
                    await close()  # the watch's connection, now rather than at collection

    async def stop(self) -> None:
        self.close()
        for task in (self._task, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def close(self) -> None:
        """End every stream (at shutdown); safe to call more than once."""
        self.closed = True
        self._notify()

    def poke(self) -> None:
        self._poke.set()

    def _notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def next_batch(self) -> asyncio.Future[None]:
        """A future completed by the next batch of changes (or by ``close``)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.closed:
            waiter.set_result(None)
        else:
            self._waiters.append(waiter)
        return waiter

    def opened(self) -> None:
        """A stream starts: the feed is read at once after every poke from now on."""
        self.streams += 1
        self._listened.set()
        self.poke()  # catch up now: the feed may have waited for the next poll

    def ended(self) -> None:
        self.streams -= 1
        if self.streams <= 0:
            self._listened.clear()

    async def _run(self) -> None:
        while not self.closed:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel()
            # that lands as the wait completes, and stop() would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._poke.wait()
                    # Nobody listening: no hurry, the poll's deadline reads the feed (an
                    # intake burst then costs one read per poll, not one per commit).
                    await self._listened.wait()
                    await asyncio.sleep(self.coalesce)
            self._poke.clear()
            try:
                if self._listened.is_set():
                    await self.fetch()
                else:
                    await self.skip()
            except BackendError as exc:
                log.warning("change feed unreadable: %s", exc)
                await asyncio.sleep(1.0)

    async def fetch(self) -> None:
        while True:
            batch = await self.backend.changes(self.seq, 1000)
            if not batch:
                return
            self.buffer.extend(batch)
            self.frames.extend(sse_frame(change).encode() for change in batch)
            self.seq = batch[-1].seq
            self._joined.clear()
            while len(self.buffer) > self.keep:
                self.floor = self.buffer.popleft().seq
                self.frames.popleft()
            self._notify()
            if len(batch) < 1000:
                return

    async def skip(self) -> None:
        """With no stream open: move ``seq`` to the feed's end without reading the changes
        (an intake burst made the hub parse and frame every change for nobody: 4 % of the
        server's loop at 1,400 webhooks a second). A stream that then resumes from further
        back reads the store itself, as from beyond ``keep``."""
        seq = await self.backend.last_seq()
        if seq != self.seq:
            self.seq = self.floor = seq
            self.buffer.clear()
            self.frames.clear()
            self._joined.clear()
            self._notify()

    def after(self, last: int) -> list[Change] | None:
        """Buffered changes after ``last``; ``None`` if the buffer does not reach back that far."""
        if last >= self.seq:
            return []
        if last < self.floor:
            return None
        start = bisect.bisect_right(self.buffer, last, key=lambda change: change.seq)
        return list(itertools.islice(self.buffer, start, None))

    def frames_after(self, last: int) -> bytes | None:
        """``after(last)`` as one SSE chunk (``b""``: nothing new; ``None``: not in memory)."""
        if last >= self.seq:
            return b""
        if last < self.floor:
            return None
        joined = self._joined.get(last)
        if joined is None:
            start = bisect.bisect_right(self.buffer, last, key=lambda change: change.seq)
            joined = b"".join(itertools.islice(self.frames, start, None))
            self._joined[last] = joined
        return joined

    async def wait_after(self, last: int, timeout: float) -> bool:
        """Wait until a change after ``last`` is known; ``False`` on timeout or shutdown."""
        if self.closed:
            return False
        if self.seq > last:
            return True
        event = self._event
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return not self.closed


class NotifyingBackend:
    """The store, with every mutation poking the hub so streams see it at once.

    Routers added later (intake) and the escalator get this, not the bare store, so their
    changes propagate as fast as the API's own.
    """

    def __init__(self, backend: Backend, hub: ChangeHub) -> None:
        self._backend = backend
        self._hub = hub

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if name in MUTATING_METHODS:

            async def mutate(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await value(*args, **kwargs)
                finally:
                    self._hub.poke()

            return mutate
        return value


def sse_frame(change: Change) -> str:
    """One change as a server-sent event: ``id`` is its seq, so clients can resume."""
    return f"id: {change.seq}\nevent: change\ndata: {change.model_dump_json()}\n\n"


RAW_SEND = "console.send"
"""Scope key of the server's own ``send`` (``console.http.app.ConsoleApp`` puts it there)."""


class EventStream(Response):
    """``GET /v1/stream``: backlog after ``last``, then live changes, then pings, as SSE.

    Built for fan-out to many streams: live changes come from the hub already serialised
    and joined (one write per stream per batch of changes, no per-stream encoding); the
    body runs in the request's own task (Starlette's ``StreamingResponse`` sends every
    chunk through an anyio task group next to a disconnect listener); a stream waits on
    a bare future the hub completes (no timer per wait: the ping timer is armed once per
    ping period and re-armed when it fires early); and body chunks go to the server's own
    ``send``, past the middleware wrappers, which only look at the response start and end
    (both still pass through them). A plain asyncio task waits for the disconnect and
    cancels the body.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        hub: ChangeHub,
        backend: Backend,
        last: int,
        ping: float,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.hub = hub
        self.backend = backend
        self.last = last
        self.ping = ping
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.current_task()
        gone = False

        async def listen() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            if streaming is not None:
                streaming.cancel()

        listener = asyncio.create_task(listen(), name="sse-disconnect")
        self.hub.opened()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._body(scope.get(RAW_SEND, send))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not gone:
                raise  # cancelled from outside (shutdown), not by the client leaving
            streaming.uncancel()  # type: ignore[union-attr]
        finally:
            self.hub.ended()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _body(self, send: Send) -> None:
        hub, last, ping = self.hub, self.last, self.ping
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] | None = None
        timer: asyncio.TimerHandle | None = None
        wrote = loop.time()

        def ping_due() -> None:
            nonlocal timer
            timer = None
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        async def write(chunk: bytes) -> None:
            nonlocal wrote
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            wrote = loop.time()

        try:
            await write(b"retry: 2000\n: connected\n\n")
            while not hub.closed:
                seq = hub.seq
                chunk = hub.frames_after(last)
                if chunk is None:  # further back than the hub keeps: read the store
                    items = await self.backend.changes(last, 1000)
                    if items:
                        await write("".join(sse_frame(change) for change in items).encode())
                        last = items[-1].seq
                        continue
                elif chunk:
                    await write(chunk)
                    last = seq
                    continue
                if loop.time() >= wrote + ping - 0.01:  # (timers may fire a tick early)
                    await write(b": ping\n\n")
                if timer is None:
                    timer = loop.call_at(wrote + ping, ping_due)
                waiter = hub.next_batch()
                await waiter
        finally:
            if timer is not None:
                timer.cancel()
