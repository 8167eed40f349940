"""The ``incidents`` command line.

Each subcommand lives in the module that owns it; this file only parses arguments, loads the
settings and dispatches, importing lazily so ``incidents --help`` stays fast and the server
stack is never imported by the console (and vice versa).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from console import __version__
from console.domain.config import (
    ConfigError,
    Settings,
    db_argument,
    is_database_url,
    load_settings,
    login_name,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidents",
        description="A keyboard-first terminal console for IT incident response.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="config file (TOML) to read")
    parser.add_argument(
        "--db", type=db_argument, help="SQLite database file (the embedded default)"
    )
    parser.add_argument("--backend", help="URL of an 'incidents serve' server")
    parser.add_argument("--token", help="bearer token for --backend")
    parser.add_argument("--as", dest="user", help="who you are (default: your login name)")
    parser.add_argument("--wall", action="store_true", help="read-only wall screen for a NOC")
    parser.add_argument("--readonly", action="store_true", help="disable every mutating key")
    parser.add_argument(
        "--demo", action="store_true", help="fresh demo database with a simulator running"
    )
    parser.add_argument("--theme", choices=["default", "high-contrast"], help="colour theme")
    parser.add_argument(
        "--sign-in",
        action="store_true",
        help="start on a sign-in screen asking for the token for --backend (used by 'web')",
    )
    parser.set_defaults(handler=("console.cli.console", "cmd_console"))

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the HTTP API (a shared live state for a team)")
    serve.add_argument("--db", type=db_argument, dest="db", help="SQLite database file")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--demo", action="store_true", help="seed a demo database if empty")
    serve.set_defaults(handler=("console.cli.serve", "cmd_serve"))

    web = sub.add_parser(
        "web", help="serve the console (or --wall) to browsers; each session signs in"
    )
    web.add_argument(
        "--backend", default=argparse.SUPPRESS, help="URL of the 'incidents serve' server"
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    web.add_argument(
        "--public-url", help="the URL browsers reach this at, behind a proxy (default from host)"
    )
    web.add_argument(
        "--wall",
        action="store_true",
        help="serve the wall; with a viewer --token (or INCIDENTS_TOKEN) it is a kiosk: no sign-in",
    )
    web.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help="viewer token for --wall kiosk mode (kept on this side)",
    )
    web.add_argument(
        "--max-sessions", type=int, default=8, help="browser sessions at once (default 8)"
    )
    web.add_argument(
        "--idle-minutes",
        type=float,
        default=None,
        help="end a session after this long without input (default 15; 0: never; "
        "kiosk walls default to never)",
    )
    web.set_defaults(handler=("console.cli.web", "cmd_web"))

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser("create", help="create a token (printed once)")
    create.add_argument("--user", required=True)
    create.add_argument("--role", required=True, choices=["viewer", "responder", "admin"])
    create.add_argument("--name", default="", help="a label for the token")
    token_sub.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token_id")
    for p in (create, revoke, token_sub.choices["list"]):
        p.add_argument("--db", type=db_argument, dest="db", help="SQLite database file")
    token.set_defaults(handler=("console.cli.token", "cmd_token"))

    integ = sub.add_parser("integration", help="manage alert integrations")
    integ_sub = integ.add_subparsers(dest="integration_command", metavar="ACTION", required=True)
    icreate = integ_sub.add_parser("create", help="create an integration key for a service")
    icreate.add_argument("--service", required=True)
    icreate.add_argument("--kind", required=True, choices=["alertmanager", "events", "change"])
    icreate.add_argument("--name", default="")
    icreate.add_argument(
        "--create-service", action="store_true", help="create the service if it does not exist"
    )
    ilist = integ_sub.add_parser("list", help="list integrations")
    irevoke = integ_sub.add_parser("revoke", help="revoke an integration")
    irevoke.add_argument("integration_id")
    for p in (icreate, ilist, irevoke):
        p.add_argument("--db", type=db_argument, dest="db", help="SQLite database file")
    integ.set_defaults(handler=("console.cli.integration", "cmd_integration"))

    report = sub.add_parser("report", help="print KPIs (MTTA, MTTR, SLA compliance)")
    report.add_argument("--since", default="7d", help="window: 24h, 7d, 30d, ...")
    report.add_argument("--service", help="only this service")
    report.add_argument("--team", help="only services of this team")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    report.set_defaults(handler=("console.cli.report", "cmd_report"))

    pir = sub.add_parser("pir", help="write a post-incident review draft (Markdown)")
    pir.add_argument("key", help="incident key, e.g. INC-1042")
    pir.add_argument("--out", type=Path, help="file to write (default: standard output)")
    pir.add_argument(
        "--force", action="store_true", help="replace an existing --out file (an edited draft)"
    )
    pir.set_defaults(handler=("console.cli.pir", "cmd_pir"))

    change = sub.add_parser("change", help="record or list change events (deploys)")
    change_sub = change.add_subparsers(dest="change_command", metavar="ACTION", required=True)
    record = change_sub.add_parser("record", help="record a change on a service")
    record.add_argument("--service", required=True, help="the service that changed")
    record.add_argument("--summary", required=True, help="what changed, in one line")
    record.add_argument("--source", help="where it came from (pipeline, host)")
    record.add_argument("--at", help="when it happened (ISO 8601; default: now)")
    record.add_argument(
        "--link", nargs="+", action="append", metavar=("URL", "TEXT"), help="a link, repeatable"
    )
    record.add_argument("--detail", action="append", metavar="KEY=VALUE", help="repeatable")
    clist = change_sub.add_parser("list", help="the newest change events")
    clist.add_argument("--service", help="only this service")
    clist.add_argument("--limit", type=int, default=50)
    clist.add_argument("--format", choices=["table", "json"], default="table")
    for p in (record, clist):
        p.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="SQLite database file")
        p.add_argument("--backend", default=argparse.SUPPRESS, help="URL of a server")
        p.add_argument("--token", default=argparse.SUPPRESS, help="bearer token for --backend")
    change.set_defaults(handler=("console.cli.change", "cmd_change"))

    replay = sub.add_parser(
        "replay", help="run recorded alert bodies through intake without storing anything"
    )
    replay.add_argument("file", type=Path, help="JSON lines: one webhook or event body per line")
    replay.add_argument(
        "--integration", help="integration id (or service) for bare Alertmanager bodies"
    )
    replay.add_argument("--format", choices=["text", "json"], default="text")
    replay.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="settings whose [intake] to try"
    )
    replay.add_argument(
        "--db", type=db_argument, default=argparse.SUPPRESS, help="SQLite database file"
    )
    replay.set_defaults(handler=("console.cli.replay", "cmd_replay"))

    # Also after the subcommand (``incidents report --db x.db``); SUPPRESS keeps a value given
    # before it (``incidents --db x.db report``) instead of overwriting it with None.
    for p in (report, pir):
        p.add_argument(
            "--db", type=db_argument, default=argparse.SUPPRESS, help="SQLite database file"
        )
        p.add_argument("--backend", default=argparse.SUPPRESS, help="URL of a server")
        p.add_argument("--token", default=argparse.SUPPRESS, help="bearer token for --backend")

    directory = sub.add_parser(
        "directory", help="people, teams, schedules, policies and services as a TOML file"
    )
    dir_sub = directory.add_subparsers(dest="directory_command", metavar="ACTION", required=True)
    dapply = dir_sub.add_parser("apply", help="make the store match a file (shows the plan)")
    dapply.add_argument("file", type=Path, help="the directory file, e.g. team.toml")
    dapply.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    dexport = dir_sub.add_parser("export", help="write the store's directory as a file")
    dexport.add_argument("--out", type=Path, help="file to write (default: standard output)")
    dexport.add_argument("--force", action="store_true", help="replace an existing --out file")
    dcheck = dir_sub.add_parser("check", help="validate a file without touching a store")
    dcheck.add_argument("file", type=Path)
    for p in (dapply, dexport):
        p.add_argument(
            "--db", type=db_argument, default=argparse.SUPPRESS, help="SQLite database file"
        )
        p.add_argument("--backend", default=argparse.SUPPRESS, help="URL of a server")
        p.add_argument("--token", default=argparse.SUPPRESS, help="admin token for --backend")
    directory.set_defaults(handler=("console.cli.directory", "cmd_directory"))

    migrate = sub.add_parser("migrate", help="copy a SQLite store into a new PostgreSQL one")
    migrate.add_argument("--from", dest="source", type=Path, required=True, help="SQLite file")
    migrate.add_argument("--to", dest="target", required=True, help="postgresql://user@host/db")
    migrate.set_defaults(handler=("console.cli.migrate", "cmd_migrate"))

    demo = sub.add_parser("demo", help="write a demo database")
    demo.add_argument("--db", type=db_argument, dest="db", help="SQLite database file to create")
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--history", type=int, default=2000, help="resolved incidents to create")
    demo.add_argument("--open", dest="open_count", type=int, default=40)
    demo.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the demo's directory as a team.toml instead of a database",
    )
    demo.add_argument("--force", action="store_true", help="replace an existing --export file")
    demo.set_defaults(handler=("console.cli.demo", "cmd_demo"))
    return parser


def resolve_settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    updates: dict[str, object] = {}
    for name in ("db", "backend", "token", "user", "theme"):
        value = getattr(args, name, None)
        if value is not None:
            updates[name] = value
    if updates.get("db") is not None and "backend" not in updates:
        updates["backend"] = None  # an explicit --db beats INCIDENTS_BACKEND
    if is_database_url(updates.get("db")):
        updates["database_url"] = updates.pop("db")
    elif updates.get("db") is not None:
        updates["database_url"] = None  # an explicit file beats a URL in INCIDENTS_DB
    if not (updates.get("user") or settings.user):
        updates["user"] = login_name()
    return settings.model_copy(update=updates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = resolve_settings(args)
    except ConfigError as exc:
        print(f"incidents: {exc}", file=sys.stderr)
        return 2
    module_name, function_name = args.handler
    handler = getattr(importlib.import_module(module_name), function_name)
    try:
        return int(handler(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
