"""``incidents serve``: the HTTP API over the configured store."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from backends.base import Unavailable
from console.domain.config import Settings
from console.http.serve import serve


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents serve [--db PATH] [--host H] [--port P] [--demo]``."""
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    logging.basicConfig(level=logging.WARNING, format="incidents serve: %(message)s")
    try:
        return asyncio.run(serve(settings, host, port, demo=bool(getattr(args, "demo", False))))
    except Unavailable as exc:
        print(f"incidents serve: {exc}", file=sys.stderr)
        return 1
