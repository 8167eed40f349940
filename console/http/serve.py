"""Run the HTTP server: uvicorn with the app of ``console.http.app``, the demo seed, signals."""

from __future__ import annotations

import gc
import logging
import resource
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from backends import capabilities, open_store
from backends.base import Unavailable
from console.domain.config import ServerSettings, Settings
from console.http.app import create_app
from console.http.connections import connection_limit, protocol_class, raise_fd_limit
from console.http.log_limits import limit_repeats

log = logging.getLogger("incidents.server")


def _uvicorn_server(
    app: FastAPI,
    host: str,
    port: int,
    on_listening: Callable[[str], None],
    limits: ServerSettings | None = None,
):
    """uvicorn with the connection limits of ``limits`` (``console.http.connections``).

    uvicorn's own settings first (``limit_concurrency``, ``timeout_keep_alive``,
    ``backlog``); the h11 protocol subclass only adds what uvicorn has no setting for: a
    header-read timeout, and closing idle connections to make room.
    """
    import uvicorn

    limits = limits or ServerSettings()

    class Server(uvicorn.Server):
        """uvicorn waits for open connections on shutdown; SSE streams never finish by
        themselves, so ending them is the first thing shutdown does."""

        async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
            await super().startup(sockets)
            if self.started and self.servers:
                sock_host, sock_port = self.servers[0].sockets[0].getsockname()[:2]
                shown = f"[{sock_host}]" if ":" in sock_host else sock_host
                on_listening(f"http://{shown}:{sock_port}")

        async def shutdown(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
            app.state.stop_streams()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(limits.header_timeout),
        # No handlers of uvicorn's own: its records reach the root logger's handlers and
        # their rate limit (``console.http.log_limits``).
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=limits.keep_alive_timeout,
        # uvicorn refuses a request once ``limit_concurrency`` connections are open, its
        # own included: one more, so ``max_connections`` of them are served.
        limit_concurrency=connection_limit(limits.max_connections) + 1,
        backlog=limits.backlog,
    )
    return Server(config)


async def serve(settings: Settings, host: str, port: int, *, demo: bool = False) -> int:
    limits = settings.server
    limit_repeats(limits.log_repeats, limits.log_window)
    if limits.raise_fd_limit:
        raise_fd_limit()
    backend = await open_store(settings)
    path = backend.description
    try:
        if demo:
            await _seed_demo(backend, settings)
        tokens = capabilities.tokens(backend)
        if tokens is None:
            raise Unavailable(f"{path} keeps no API tokens; serve needs a store that does")
        active = await tokens.list(include_revoked=False)
        app = create_app(backend, settings, tokens=tokens)

        def listening(url: str) -> None:
            # What exists now (modules, the app, its schemas, the store) lives as long as
            # the process: out of the collector's way, or every full collection walks it
            # (one of 56 ms in each 5 s of 1-alert intake, a request's p99 with it).
            gc.freeze()
            print(f"incidents serve: listening on {url} (database {path})", flush=True)
            fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            print(
                f"incidents serve: at most {connection_limit(limits.max_connections)} "
                f"connections (open-file limit {fds}), header timeout "
                f"{limits.header_timeout:g} s",
                flush=True,
            )
            if not active:
                print(
                    "incidents serve: no tokens yet; create one with "
                    f"`incidents token create --user NAME --role admin --db {path}`",
                    flush=True,
                )

        server = _uvicorn_server(app, host, port, listening, limits)
        await server.serve()
        return 0 if server.started else 1
    finally:
        await backend.close()


async def _seed_demo(backend: Any, settings: Settings) -> None:
    """``serve --demo``: the console's demo data, written once into an empty database."""
    if await backend.last_seq() > 0:
        return
    from console.demo import seed as demo

    summary = await demo.seed(
        backend, now=backend.clock.now(), seed=settings.demo.seed, user=settings.user
    )
    print(
        f"incidents serve: demo data written ({summary.open} open, {summary.history} resolved)",
        flush=True,
    )
