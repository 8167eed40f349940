"""``incidents directory``: the people, teams, schedules, policies and services as a file.

``apply FILE`` reads a ``team.toml`` (see ``examples/team.toml``), prints the plan (what it
creates, changes and removes) and writes it in one transaction; ``--dry-run`` stops after
the plan. ``export`` writes the store's directory as such a file; ``check FILE`` only
validates. Works on the local database and on a server (with an admin token).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.directory import (
    Directory,
    DirectoryError,
    Plan,
    Problem,
    check,
    in_use,
    locate,
    parse,
    plan,
    render,
)

if TYPE_CHECKING:
    import argparse

    from backends.base import Backend
    from console.domain.config import Settings

EXPORT_HEADER = (
    "The Incident Console directory: teams, people, on-call schedules, escalation policies\n"
    "and services. Apply it with: incidents directory apply FILE (--dry-run shows the plan).\n"
    "The file is the whole directory: what it leaves out is removed."
)


class _Refused(Exception):
    """The apply cannot go ahead; the message says why (printed as it is)."""


async def current_directory(backend: Backend) -> Directory:
    """What the store holds now, as a ``Directory`` (each kind ordered by id)."""
    return Directory(
        teams=tuple(await backend.teams()),
        users=tuple(await backend.users()),
        schedules=tuple(await backend.schedules()),
        policies=tuple(await backend.policies()),
        services=tuple(await backend.services()),
    ).sorted()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Refused(f"there is no file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Refused(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _load(path: Path, now: object) -> tuple[Directory, list[Problem]]:
    text = _read(path)
    desired = parse(text, str(path))
    warnings = locate(check(desired, now), text, str(path))  # type: ignore[arg-type]
    return desired, [w for w in warnings if w.warning]


async def _apply(args: argparse.Namespace, settings: Settings) -> Plan:
    from console.cli.report import open_configured
    from console.domain.clock import SystemClock
    from console.domain.models import IncidentQuery

    now = SystemClock().now()
    desired, warnings = _load(args.file, now)
    for warning in warnings:
        print(warning, file=sys.stderr)
    backend = await open_configured(settings)
    try:
        found = plan(await current_directory(backend), desired, now)
        for line in found.lines():
            print(line)
        if found.changes.removed:
            open_now = await backend.list_incidents(IncidentQuery(limit=100_000))
            refused = in_use(found.changes, open_now)
            if refused:
                raise _Refused("\n".join(refused))
        if args.dry_run:
            print("dry run: nothing was written")
        elif not found.empty:
            await backend.apply_directory(found.changes)
            print(f"applied to {backend.description}: {found.summary()}")
        return found
    finally:
        await backend.close()


async def _export(settings: Settings) -> str:
    from console.cli.report import open_configured

    backend = await open_configured(settings)
    try:
        directory = await current_directory(backend)
        if not (directory.users or directory.services or directory.teams):
            print(
                f"incidents directory export: {backend.description} holds no directory yet "
                "(no people, teams or services)",
                file=sys.stderr,
            )
        return render(directory, header=EXPORT_HEADER)
    finally:
        await backend.close()


def write_file(path: Path, text: str, *, force: bool, prog: str) -> int:
    """Write ``text`` to ``path``, never over an existing file unless ``force``."""
    if path.exists() and not force:
        print(f"{prog}: {path} already exists; pass --force to replace it", file=sys.stderr)
        return 1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{prog}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_directory(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents directory apply FILE [--dry-run] | export [--out FILE] | check FILE``."""
    import asyncio

    from backends.base import BackendError
    from console.domain.clock import SystemClock

    prog = f"incidents directory {args.directory_command}"
    try:
        if args.directory_command == "check":
            _, warnings = _load(args.file, SystemClock().now())
            for warning in warnings:
                print(warning)
            print(f"{args.file}: valid" + (f", {len(warnings)} warnings" if warnings else ""))
            return 0
        if args.directory_command == "export":
            text = asyncio.run(_export(settings))
            if args.out is None:
                sys.stdout.write(text)
                return 0
            return write_file(args.out, text, force=args.force, prog=prog)
        if settings.backend is None:
            from backends.sqlite.files import create_folders

            create_folders(settings.database_path().parent)
        asyncio.run(_apply(args, settings))
        return 0
    except DirectoryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(
            f"{prog}: {count} problem{'s' if count != 1 else ''}; nothing was written",
            file=sys.stderr,
        )
        return 2
    except _Refused as exc:
        print(f"{prog}: {exc}; nothing was written", file=sys.stderr)
        return 1
    except BackendError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
