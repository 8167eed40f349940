"""``incidents pir KEY``: print or write a post-incident review draft."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from console.services.reviews import draft_for

if TYPE_CHECKING:
    import argparse

    from console.domain.config import Settings


def cmd_pir(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents pir KEY [--out FILE [--force]]``."""
    import asyncio

    if args.out is not None and args.out.exists() and not getattr(args, "force", False):
        print(
            f"incidents pir: {args.out} already exists (perhaps an edited draft); "
            "nothing was written. Pass --force to replace it, or choose another --out",
            file=sys.stderr,
        )
        return 1

    from backends.base import BackendError, NotFound
    from console.cli.report import open_configured
    from console.domain.clock import SystemClock

    async def run() -> str:
        backend = await open_configured(settings)
        try:
            return await draft_for(
                backend,
                args.key,
                policy=settings.sla,
                now=SystemClock().now(),
                window=settings.changes.window,
            )
        except NotFound:
            raise NotFound(
                f"there is no incident {args.key!r} in {backend.description}; "
                "check the key (e.g. INC-1042) and the store (--db / --backend)"
            ) from None
        finally:
            await backend.close()

    try:
        text = asyncio.run(run())
    except NotFound as exc:
        print(f"incidents pir: {exc}", file=sys.stderr)
        return 1
    except BackendError as exc:
        print(f"incidents pir: {exc}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"incidents pir: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote the review draft of {args.key} to {args.out}", file=sys.stderr)
    return 0
