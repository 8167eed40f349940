"""``incidents demo``: write a demo database."""

from __future__ import annotations

import argparse
import asyncio
import sys

from backends import open_store
from backends.base import BackendError
from backends.sqlite.files import create_folders
from console.demo.seed import DemoError, SeedSummary, seed
from console.domain.clock import SystemClock
from console.domain.config import Settings
from console.domain.models import (
    IncidentQuery,
    Status,
)


async def _write_demo(args: argparse.Namespace, settings: Settings) -> SeedSummary:
    backend = await open_store(settings)
    path = backend.description
    try:
        everything = IncidentQuery(statuses=tuple(Status), limit=1)
        existing = await backend.count_incidents(everything)
        services = await backend.services()
        if existing or services:
            raise DemoError(
                f"{path} already holds {existing} incidents and {len(services)} services; "
                "the demo only writes into a new or empty database. Pick another --db "
                "or delete that file first."
            )
        return await seed(
            backend,
            now=SystemClock().now(),
            seed=args.seed,
            history=args.history,
            open_count=args.open_count,
            user=settings.user,
            sla=settings.sla,
        )
    finally:
        await backend.close()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents demo [--db PATH] [--seed N] [--history N] [--open N] [--export FILE]``."""
    if args.export is not None:
        return _export(args)
    where: object = settings.database_url
    if not settings.database_url:
        path = settings.database_path()
        create_folders(path.parent)
        where = path
    try:
        summary = asyncio.run(_write_demo(args, settings))
    except (DemoError, BackendError) as exc:
        print(f"incidents demo: {exc}", file=sys.stderr)
        return 1
    print(f"wrote a demo database to {where}")
    for line in summary.lines():
        print(line)
    print(f"open it with: incidents --db {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    """The demo organisation (without the person at the console) as a directory file."""
    from console.cli.directory import EXPORT_HEADER, write_file
    from console.demo.seed import directory
    from console.domain.directory import render

    text = render(directory(SystemClock().now()), header=EXPORT_HEADER)
    return write_file(args.export, text, force=args.force, prog="incidents demo --export")
