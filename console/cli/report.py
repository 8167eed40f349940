"""``incidents report``: KPIs from the configured backend as a table, JSON or CSV."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from console.domain.kpis import (
    Kpis,
    ReportError,
    parse_window,
    render_csv,
    render_json,
    render_table,
)

if TYPE_CHECKING:
    import argparse

    from console.domain.config import Settings


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv}


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents report``: open the configured backend, ask it for stats, print them."""
    import asyncio

    try:
        since = parse_window(args.since)
    except ReportError as exc:
        print(f"incidents report: {exc}", file=sys.stderr)
        return 2
    render = RENDERERS[args.format]

    async def run() -> Kpis:
        from console.domain.models import IncidentQuery, Status

        backend = await open_configured(settings)
        try:
            kpis = await backend.stats(since, service=args.service, team=args.team)
            if not await backend.count_incidents(IncidentQuery(statuses=tuple(Status), limit=1)):
                # An all-zero report from the wrong file looks like a quiet week.
                print(
                    f"incidents report: {backend.description} holds no incidents at all "
                    "(is this the store you meant? see --db / --backend)",
                    file=sys.stderr,
                )
            return kpis
        finally:
            await backend.close()

    from backends.base import BackendError

    try:
        kpis = asyncio.run(run())
    except BackendError as exc:
        print(f"incidents report: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(render(kpis))
    return 0


async def open_configured(settings: Settings) -> Any:
    """The backend the settings name, opened (SQLite file, or an ``incidents serve`` URL)."""
    from backends import open_backend

    return await open_backend(settings)
