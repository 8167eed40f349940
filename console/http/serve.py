"""Run the HTTP server: uvicorn with the app of ``console.http.app``, the demo seed, signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from backends import capabilities, open_store
from backends.base import Unavailable
from console.domain.config import Settings
from console.http.app import create_app

log = logging.getLogger("incidents.server")


def _uvicorn_server(app: FastAPI, host: str, port: int, on_listening: Callable[[str], None]):
    import uvicorn

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
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
    )
    return Server(config)


async def serve(settings: Settings, host: str, port: int, *, demo: bool = False) -> int:
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
            print(f"incidents serve: listening on {url} (database {path})", flush=True)
            if not active:
                print(
                    "incidents serve: no tokens yet; create one with "
                    f"`incidents token create --user NAME --role admin --db {path}`",
                    flush=True,
                )

        server = _uvicorn_server(app, host, port, listening)
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
