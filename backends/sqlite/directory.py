"""Applying a directory file to the SQLite store: ``backends.common.directory`` writes it in
one ``BEGIN IMMEDIATE`` transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.common import directory
from backends.sqlite.writer import writing
from console.domain.directory import DirectoryChanges

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend


async def apply_directory(backend: SqliteBackend, changes: DirectoryChanges) -> None:
    async with writing(backend) as tx:
        await directory.apply_directory(tx, changes, backend.settings.sla, backend.clock.now())
