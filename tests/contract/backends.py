"""The backends the contract suite runs against: one factory per name.

A factory is an async context manager taking a scratch directory and yielding an opened
backend whose caller has admin rights, on an empty store. The suite is parametrised over
``FACTORIES``, so another implementation joins it by registering here and no test changes:

    @register("remote")
    @asynccontextmanager
    async def remote_backend(tmp: Path) -> AsyncIterator[Backend]:
        ...  # start a server process on a loopback port, yield a RemoteBackend on it

Backends are free to use a real clock in another process: the tests never inject one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from backends.base import Backend
from backends.sqlite.store import SqliteBackend

Factory = Callable[[Path], AbstractAsyncContextManager[Backend]]
FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        FACTORIES[name] = factory
        return factory

    return add


@register("sqlite")
@asynccontextmanager
async def sqlite_backend(tmp: Path) -> AsyncIterator[Backend]:
    async with SqliteBackend(tmp / "contract.db", poll_interval=0.02) as backend:
        yield backend


@register("postgres")
@asynccontextmanager
async def postgres_backend(tmp: Path) -> AsyncIterator[Backend]:
    from backends.postgres.store import PostgresBackend
    from tests.postgres import fresh_dsn

    async with PostgresBackend(await fresh_dsn(), poll_interval=0.05) as backend:
        yield backend


# The remote backend registers itself (a real server process per test).
import tests.contract.backends_remote  # noqa: E402, F401
