"""``incidents migrate --from team.db --to postgresql://...``: move a team's SQLite store to
PostgreSQL (``backends.postgres.copy``), then check every table's row count on both sides."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from backends.base import BackendError
from backends.postgres.copy import copy_store, count_rows
from backends.postgres.store import PostgresBackend
from backends.sqlite.store import SqliteBackend
from console.domain.config import Settings, is_database_url


async def _migrate(source: Path, target: str, settings: Settings) -> int:
    async with SqliteBackend(source, settings=settings) as sqlite:
        async with PostgresBackend(target, settings=settings) as postgres:
            copied = await copy_store(sqlite, postgres)
            found = await count_rows(postgres)
    wrong = {t: (n, found[t]) for t, n in copied.items() if found[t] != n}
    for table, n in copied.items():
        print(f"{table:<14} {n:>9} rows")
    if wrong:
        print(f"incidents migrate: counts differ after the copy: {wrong}", file=sys.stderr)
        return 1
    print(f"copied {source} to {postgres.description}; every table's count matches")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents migrate --from FILE --to URL``."""
    source: Path = args.source
    if not is_database_url(args.target):
        print(
            f"incidents migrate: --to must be a postgresql:// URL, not {args.target!r}",
            file=sys.stderr,
        )
        return 2
    if not source.is_file():
        print(f"incidents migrate: {source} does not exist", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_migrate(source, args.target, settings))
    except BackendError as exc:
        print(f"incidents migrate: {exc}", file=sys.stderr)
        return 1
