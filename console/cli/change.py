"""``incidents change record|list``: change events for a deploy script without HTTP.

``record`` stores one change on a service (``--service``, ``--summary``; optionally
``--source``, ``--at`` for a change that happened earlier, ``--link URL [TEXT]``, and
``--detail key=value``), cleaned and checked like a change that arrives at
``POST /v1/integrations/change``. It works on every backend: the local file, or a server
(``--backend`` with a responder token), where the token's user is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime

from backends import capabilities
from backends.base import BackendError
from console.cli.report import open_configured
from console.domain.changes import ChangeEvent, new_change
from console.domain.clock import SystemClock
from console.domain.config import Settings
from console.domain.intake import IntakeError


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise IntakeError(
            "change is invalid", [f"--at: {text!r} is not an ISO 8601 time (2026-11-30T09:15Z)"]
        ) from None


def _details(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise IntakeError("change is invalid", [f"--detail: {pair!r} is not key=value"])
        out[key.strip()] = value
    return out


def _row(event: ChangeEvent) -> str:
    when = event.at.strftime("%Y-%m-%d %H:%M")
    return f"{event.key:<9} {when}  {event.service:<16} {event.summary}"


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = await open_configured(settings)
    try:
        log = capabilities.changes(backend)
        if log is None:
            print("incidents change: this backend does not keep change events", file=sys.stderr)
            return 1
        if args.change_command == "record":
            links = [(link[0], link[1] if len(link) > 1 else "") for link in args.link or []]
            change = new_change(
                args.service,
                args.summary,
                now=SystemClock().now(),
                source=args.source or "",
                at=_when(args.at),
                links=links,
                details=_details(args.detail or []),
            )
            event = await log.record_change_event(change, settings.user or "cli")
            print(f"recorded {event.key} on {event.service}: {event.summary}")
            return 0
        events = await log.change_events(
            services=[args.service] if args.service else None, limit=args.limit
        )
        if args.format == "json":
            print(json.dumps([e.model_dump(mode="json") for e in events], indent=2))
        elif not events:
            print(
                f"no change events in {backend.description} yet: "
                "incidents change record --service S --summary TEXT"
            )
        else:
            for event in events:
                print(_row(event))
        return 0
    finally:
        await backend.close()


def cmd_change(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except IntakeError as exc:
        print(f"incidents change: {'; '.join(exc.errors)}", file=sys.stderr)
        return 2
    except BackendError as exc:
        print(f"incidents change: {exc}", file=sys.stderr)
        return 1
