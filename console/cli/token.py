"""``incidents token create|list|revoke``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from backends import capabilities, open_store
from backends.base import NotFound, Unavailable
from console.domain.config import Settings


def _format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = await open_store(settings)
    try:
        store = capabilities.tokens(backend)
        if store is None:
            raise Unavailable(f"{backend.description} keeps no API tokens")
        if args.token_command == "create":
            info, token = await store.create(args.user, args.role, args.name)
            print(token)
            print(
                f"token {info.id} for {info.user} ({info.role}) created; this is the only "
                "time it is shown: store it now.",
                file=sys.stderr,
            )
        elif args.token_command == "list":
            rows = await store.list()
            if not rows:
                print(
                    f"no tokens in {backend.description}: create one with "
                    "`incidents token create --user NAME --role admin`"
                )
                return 0
            header = f"{'ID':<10} {'USER':<16} {'ROLE':<10} {'CREATED':<17} {'LAST USED':<17} STATE"
            print(header)
            for info in rows:
                state = f"revoked {_format_time(info.revoked_at)}" if info.revoked_at else "active"
                print(
                    f"{info.id:<10} {info.user[:16]:<16} {info.role:<10} "
                    f"{_format_time(info.created_at):<17} {_format_time(info.last_used_at):<17} "
                    f"{state}"
                )
        elif args.token_command == "revoke":
            info = await store.revoke(args.token_id)
            print(f"token {info.id} of {info.user} ({info.role}) revoked")
    finally:
        await backend.close()
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents token create|list|revoke``."""
    try:
        return asyncio.run(_run(args, settings))
    except (NotFound, Unavailable, ValueError) as exc:
        print(f"incidents token: {exc}", file=sys.stderr)
        return 1
