"""Fixtures: a real server process with a seeded directory and one token per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from backends.remote import RemoteBackend
from backends.sqlite.store import SqliteBackend
from console.domain.models import Service, User
from tests.remote.server import ForkedServer, make_tokens, shared_zygote

ROLES = {"ada": "admin", "rex": "responder", "vic": "viewer"}


@dataclass
class Live:
    server: ForkedServer
    url: str
    db: Path
    tokens: dict[str, str]
    clients: list[RemoteBackend] = field(default_factory=list)

    def token(self, role: str) -> str:
        user = next(u for u, r in ROLES.items() if r == role)
        return self.tokens[user]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    def http(self, role: str | None = None) -> httpx.AsyncClient:
        headers = self.headers(role) if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)

    async def remote(self, role: str = "responder", **kwargs: object) -> RemoteBackend:
        client = RemoteBackend(self.url, self.token(role), **kwargs)  # type: ignore[arg-type]
        await client.open()
        self.clients.append(client)
        return client


async def seed_directory(db: Path) -> None:
    async with SqliteBackend(db) as store:
        for user in ROLES:
            await store.put_user(User(id=user, name=user.title()))
        await store.put_service(Service(id="web", name="Web shop"))


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    db = tmp_path / "live.db"
    tokens = await make_tokens(db, ROLES)
    await seed_directory(db)
    server = shared_zygote().fork(db)
    try:
        url = await server.ready()
        state = Live(server, url, db, tokens)
        yield state
        for client in state.clients:
            await client.close()
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    folder.mkdir()
    yield folder
