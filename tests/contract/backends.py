"""The backends the contract suite runs against: one factory per name.

A factory is an async context manager taking a scratch directory (and optionally a config
file, TOML, whose settings the store or server runs with) and yielding an opened backend
whose caller has admin rights, on an empty store; called again with the same directory, it
opens the same store again (as a restart would). The suite is parametrised over
``FACTORIES``, so another implementation joins it by registering here and no test changes:

    @register("remote")
    @asynccontextmanager
    async def remote_backend(tmp: Path, config: Path | None = None) -> AsyncIterator[Backend]:
        ...  # start a server process on a loopback port, yield a RemoteBackend on it

Backends are free to use a real clock in another process: the tests never inject one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from backends.base import Backend
from backends.sqlite.store import SqliteBackend
from console.domain.config import load_settings

Factory = Callable[..., AbstractAsyncContextManager[Backend]]
"""``factory(tmp, config=None)``: see the module docstring."""
FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        FACTORIES[name] = factory
        return factory

    return add


@register("sqlite")
@asynccontextmanager
async def sqlite_backend(tmp: Path, config: Path | None = None) -> AsyncIterator[Backend]:
    settings = load_settings(config, env={}) if config is not None else None
    async with SqliteBackend(tmp / "contract.db", settings=settings, poll_interval=0.02) as backend:
        yield backend


@register("postgres")
@asynccontextmanager
async def postgres_backend(tmp: Path, config: Path | None = None) -> AsyncIterator[Backend]:
    from backends.postgres.store import PostgresBackend
    from tests.postgres import fresh_dsn

    settings = load_settings(config, env={}) if config is not None else None
    remembered = tmp / "postgres.dsn"  # the same directory opens the same database again
    if not remembered.exists():
        remembered.write_text(await fresh_dsn())
    dsn = remembered.read_text()
    async with PostgresBackend(dsn, settings=settings, poll_interval=0.05) as backend:
        yield backend


# The remote backend registers itself (a real server process per test).
import tests.contract.backends_remote  # noqa: E402, F401
