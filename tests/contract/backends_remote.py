"""The ``remote`` contract backend: a ``RemoteBackend`` on a real ``incidents serve`` process.

Each test gets a fresh server on a fresh database (the contract wants an empty store),
forked from a pre-imported parent (``tests/remote/zygote.py``) so it boots in milliseconds
instead of a second; the forked child runs the real ``incidents serve`` code path.

The suite calls mutations with actors alice, bob and carol, and the server records the
token's user as the actor, so the client holds one token per user (``RemoteBackend(tokens=)``):
alice's token (admin) is the default, bob and carol are responders.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from backends.base import Backend
from backends.remote import RemoteBackend
from tests.contract.backends import register
from tests.remote.server import make_tokens, shared_zygote

ROLES = {"alice": "admin", "bob": "responder", "carol": "responder"}


@register("remote")
@asynccontextmanager
async def remote_backend(tmp: Path, config: Path | None = None) -> AsyncIterator[Backend]:
    db = tmp / "remote.db"
    tokens = await make_tokens(db, ROLES)
    server = shared_zygote().fork(db, config)
    try:
        url = await server.ready()
        client = RemoteBackend(url, tokens["alice"], tokens=tokens)
        await client.open()
        try:
            yield client
        finally:
            await client.close()
    finally:
        # The database is thrown away: no need to wait for a graceful shutdown
        # (tests/remote checks that one).
        server.stop(signal.SIGKILL)
