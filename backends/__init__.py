"""Storage and transport behind the backend contract (``backends.base``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backends.base import Backend
    from console.domain.clock import Clock
    from console.domain.config import Settings


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


async def open_backend(settings: Settings, clock: Clock | None = None) -> Backend:
    """The backend ``settings`` name, opened: a server URL wins over the SQLite file.

    The remote client is imported only when used, so a local console never loads it.
    """
    if settings.backend:
        if not _is_url(settings.backend):
            from backends.base import Unavailable

            raise Unavailable(
                f"backend {settings.backend!r} is not an http(s) URL; give the URL of an "
                "'incidents serve' server, or leave it out to use the local database"
            )
        from backends.remote import RemoteBackend

        remote = RemoteBackend(settings.backend, token=settings.token)
        await remote.open()
        return remote
    return await open_store(settings, clock)


async def open_store(settings: Settings, clock: Clock | None = None) -> Backend:
    """The store itself (never a server), opened, created and migrated if needed: the
    ``postgresql://`` team store when ``database_url`` is set, else the SQLite file. What
    the server, the token and integration commands and the demo write to."""
    if settings.database_url:
        from backends.postgres.store import PostgresBackend

        team = PostgresBackend(settings.database_url, settings=settings, clock=clock)
        await team.open()
        return team
    from backends.sqlite.store import SqliteBackend

    local = SqliteBackend(settings.database_path(), settings=settings, clock=clock)
    await local.open()
    return local
