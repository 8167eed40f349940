"""``incidents web``: the console (or the wall) in a browser, one process per session.

Every session runs ``incidents --backend URL --sign-in`` behind textual-serve
(``console.web.server``): it starts on the sign-in screen and gets what the token allows, so
nothing is ever open to whoever reaches the port. ``--wall`` with a viewer token given here
(``--token`` or ``INCIDENTS_TOKEN``) is the kiosk: each session opens the wall with that
token, which stays on this side (in the child's environment, never in a page or a command
line). Any other token is refused for a kiosk: whoever sees the screen could use it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shlex
import sys
from urllib.parse import urlparse

from backends.base import BackendError
from console.domain.config import Settings

DEFAULT_IDLE_MINUTES = 15.0


async def _role_of(url: str, token: str) -> str:
    from backends.remote import RemoteBackend

    remote = RemoteBackend(url, token=token)
    try:
        await remote.open()
        return remote.role
    finally:
        await remote.close()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_command(args: argparse.Namespace, url: str, *, kiosk: bool) -> list[str]:
    """What each browser session runs."""
    command = [sys.executable, "-m", "console", "--backend", url]
    if getattr(args, "config", None):
        command += ["--config", str(args.config)]
    if args.wall:
        command.append("--wall")
    if not kiosk:
        command.append("--sign-in")
    return command


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.backend or ""
    if urlparse(url).scheme not in ("http", "https"):
        print(
            "incidents web: --backend URL is needed: the 'incidents serve' server that "
            "browser sessions sign in to (e.g. --backend http://127.0.0.1:8080)",
            file=sys.stderr,
        )
        return 2
    if args.max_sessions < 1:
        print("incidents web: --max-sessions must be at least 1", file=sys.stderr)
        return 2
    token = settings.token if args.wall else None
    if token:
        try:
            role = asyncio.run(_role_of(url, token))
        except BackendError as exc:
            print(f"incidents web: cannot check the kiosk token at {url}: {exc}", file=sys.stderr)
            return 1
        if role != "viewer":
            print(
                f"incidents web: the kiosk token is a {role} token; a wall needs a viewer "
                "token (incidents token create --user wall --role viewer), since anyone who "
                "sees the screen could use it",
                file=sys.stderr,
            )
            return 2
    # Children inherit this environment: only a kiosk passes a token on, and only its own.
    os.environ.pop("INCIDENTS_TOKEN", None)
    if token:
        os.environ["INCIDENTS_TOKEN"] = token
    idle = args.idle_minutes
    if idle is None:
        idle = 0.0 if token else DEFAULT_IDLE_MINUTES
    if idle < 0:
        print("incidents web: --idle-minutes cannot be negative", file=sys.stderr)
        return 2
    if not _loopback(args.host):
        print(
            f"incidents web: listening on {args.host}: tokens typed at the sign-in travel in "
            "clear unless a TLS proxy is in front (give its address with --public-url)",
            file=sys.stderr,
        )
    from console.web.server import ConsoleServer

    mode = "wall kiosk" if token else ("wall" if args.wall else "console")
    server = ConsoleServer(
        shlex.join(session_command(args, url, kiosk=bool(token))),
        host=args.host,
        port=args.port,
        title=f"Incident Console ({mode})",
        public_url=args.public_url,
        max_sessions=args.max_sessions,
        idle_seconds=idle * 60,
    )
    server.serve()
    return 0
