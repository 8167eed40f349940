"""``incidents serve``: the backend contract over HTTP, with a live change stream.

One FastAPI app wraps a store backend (the SQLite store in production) and exposes every
method of ``backends.base.Backend`` under ``/v1``; ``backends/remote.py`` is its client.
This module only builds the app: who may call what is in ``console.http.deps``, the error
bodies in ``console.http.errors``, the routes in one router per resource under
``console.http.routes`` plus the alert intake routes of ``console.http.intake``
(``docs/interfaces.md`` has the table of routes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from backends import capabilities
from backends.base import Backend
from backends.capabilities import TokenStore
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings
from console.http import intake
from console.http.change_stream import RAW_SEND, ChangeHub, NotifyingBackend
from console.http.errors import ERROR_RESPONSES, install_error_handlers
from console.http.metrics import RequestMetrics
from console.http.middleware import Instrument
from console.http.readiness import Readiness
from console.http.routes import (
    auth,
    change_events,
    changes,
    directory,
    incidents,
    ops,
    problems,
    stats,
    status,
)
from console.http.store_gauges import StoreGauges
from console.http.visible import VisibleJson
from console.services.automation import Automation

log = logging.getLogger("incidents.server")

ROUTERS = (
    auth.router,
    incidents.router,
    stats.router,
    problems.router,
    directory.router,
    changes.router,
    intake.router,
    change_events.router,
    ops.router,
    status.router,
)
"""Every router the app serves, in the order they are matched."""


class ConsoleApp(FastAPI):
    """The FastAPI app, which also hands its routes the server's own ``send`` in the scope
    (``RAW_SEND``): a live change stream writes its body chunks there, past the wrappers
    of every middleware layer, which look only at a response's start and end. The two
    alert intake POSTs go to ``intake.FastIntake`` (``fast_intake``), ahead of them all."""

    fast_intake: intake.FastIntake | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast_intake
        if fast is not None and fast.handles(scope):
            await fast(scope, receive, send)
            return
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(
    backend: Backend,
    settings: Settings,
    *,
    clock: Clock | None = None,
    tokens: TokenStore | None = None,
    poll: float = 0.25,
) -> FastAPI:
    """The HTTP API over ``backend``.

    ``tokens`` defaults to the backend's own ``TokenStore`` capability (a store keeps its
    ``tokens`` table; a backend without one needs ``tokens`` given).
    The app's lifespan starts the change hub, the intake router's needs and the escalator
    and stops them again.
    """
    clock = clock or SystemClock()
    if tokens is None:
        tokens = capabilities.tokens(backend)
        if tokens is None:
            raise ValueError(f"create_app needs a TokenStore: {backend.description} keeps none")
    # Replicas (a store with an Elector) write the same store: listen for their changes.
    hub = ChangeHub(backend, poll=poll, listen=capabilities.elector(backend) is not None)
    store = NotifyingBackend(backend, hub)
    metrics = RequestMetrics()
    health = capabilities.write_health(backend)
    readiness = Readiness(health) if health is not None else None
    tally = capabilities.tally(backend)
    gauges = (
        StoreGauges(tally, clock, refresh=settings.server.metrics_refresh)
        if tally is not None
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        automation = Automation(store, settings, clock, interval=settings.server.escalator_interval)
        app.state.automation = automation
        running = asyncio.create_task(automation.run(), name="automation")
        try:
            yield
        finally:
            hub.close()
            if readiness is not None:
                readiness.close()
            if gauges is not None:
                gauges.close()
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running
            await hub.stop()

    app = ConsoleApp(
        title="Incident Console API",
        version="1",
        summary="The incident store over HTTP: the backend contract, a live change stream, "
        "tokens and roles.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.backend = store
    app.state.store = backend
    app.state.settings = settings
    app.state.clock = clock
    app.state.tokens = tokens
    app.state.hub = hub
    app.state.metrics = metrics
    app.state.readiness = readiness
    app.state.gauges = gauges
    app.state.stop_streams = hub.close
    install_error_handlers(app)
    app.add_middleware(VisibleJson)  # every JSON answer (FastIntake cleans its own)
    app.add_middleware(Instrument, metrics=metrics, max_body=settings.server.max_body_bytes)
    app.fast_intake = intake.FastIntake(app, metrics, settings.server.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    return app
