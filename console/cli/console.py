"""``incidents``: open the console on the configured backend (and ``--demo``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from backends import capabilities
from backends.base import Backend, BackendError
from backends.sqlite.files import create_folders
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings
from console.services.automation import Automation
from console.tui.app import StartupError, make_app


# the command line ----------------------------------------------------------------------------
async def _open(settings: Settings, clock: Clock) -> Backend:
    from backends import open_backend

    try:
        backend = await open_backend(settings, clock=clock)
        await backend.last_seq()  # proves it answers (a remote server is up, a file readable)
    except BackendError as exc:
        raise StartupError(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(f"cannot open {settings.database_path()}: {exc}") from None
    return backend


async def _signed_in_console(args: argparse.Namespace, settings: Settings) -> int:
    """``--sign-in``: the console starts on the sign-in screen and connects to ``--backend``
    with the token typed there (what ``incidents web`` runs for each browser session). A
    token from the config or the environment is ignored: the person at the browser signs in."""
    from urllib.parse import urlparse

    from backends.remote import RemoteBackend

    url = settings.backend or ""
    if urlparse(url).scheme not in ("http", "https"):
        raise StartupError(
            "--sign-in needs --backend URL: the 'incidents serve' server to sign in to"
        )

    async def connect(token: str) -> Backend:
        remote = RemoteBackend(url, token=token)
        try:
            await remote.open()
        except BaseException:
            await remote.close()
            raise
        return remote

    app = make_app(
        RemoteBackend(url),
        clock=SystemClock(),
        settings=settings,
        user=settings.user,
        readonly=args.readonly,
        wall=args.wall,
        connect=connect,
    )
    try:
        await app.run_async()
    finally:
        await app.backend.close()
    return app.return_code or 0


async def _console(args: argparse.Namespace, settings: Settings) -> tuple[Path | None, int]:
    if getattr(args, "sign_in", False):
        if args.demo:
            raise StartupError("--sign-in connects to a server; leave out --demo")
        return None, await _signed_in_console(args, settings)
    if not args.demo:
        return None, await _run(args, settings)
    if settings.backend:
        raise StartupError("--demo runs on a local database; leave out --backend")
    if settings.db is not None:
        # A file the person named is theirs to keep.
        if settings.db.exists() and settings.db.stat().st_size > 0:
            raise StartupError(f"{settings.db} already exists; --demo needs a fresh database file")
        return settings.db, await _run(args, settings)
    # A demo of our own making is thrown away on exit, however the console ends (its
    # folder, from mkdtemp, is the owner's only: 0700).
    folder = Path(tempfile.mkdtemp(prefix="incidents-demo-"))
    try:
        demo = settings.model_copy(update={"db": folder / "demo.db", "backend": None})
        return None, await _run(args, demo)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    clock = SystemClock()
    if not args.demo and not settings.backend and not settings.database_url:
        folder = settings.database_path().parent
        try:
            create_folders(folder)
        except OSError as exc:
            raise StartupError(f"cannot create the database folder {folder}: {exc}") from None
    backend = await _open(settings, clock)
    try:
        if args.demo:
            from console.demo.seed import seed

            await seed(
                backend, now=clock.now(), seed=settings.demo.seed, user=settings.user or "demo"
            )
        identity = capabilities.identity(backend)
        app = make_app(
            backend,
            clock=clock,
            settings=settings,
            # Over the network the server records the token's user as the actor: show that.
            user=(identity.user if identity is not None else "") or settings.user,
            readonly=args.readonly,
            wall=args.wall,
            demo=args.demo,
        )
        if settings.escalator and capabilities.store(backend) is not None:
            # Local SQLite mode: nobody stays unpaged because no server runs. It campaigns for
            # the file's lease like a server, so servers and consoles on one file run one
            # escalator between them (and each move carries the version it read).
            app.escalator = Automation(
                backend,
                settings,
                clock,
                notify=False,
                who="incidents console",
                log_level=logging.INFO,
            )
        await app.run_async()
    finally:
        await backend.close()
    return app.return_code or 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents``: open the console (see ``console.cli.main``)."""
    try:
        demo_path, code = asyncio.run(_console(args, settings))
    except StartupError as exc:
        print(f"incidents: {exc}", file=sys.stderr)
        return 1
    if demo_path is not None:
        print(f"demo database kept at {demo_path}")
    if code:
        # Textual has printed the traceback; a crash must not look like a clean quit
        print(f"incidents: the console stopped on an error (exit status {code})", file=sys.stderr)
    return code
