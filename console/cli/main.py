"""The ``incidents`` command line.

Each subcommand lives in the module that owns it; this file only parses arguments, loads the
settings and dispatches, importing lazily so ``incidents --help`` stays fast and the server
stack is never imported by the console (and vice versa).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from console import __version__
from console.domain.config import (
    ConfigError,
    Settings,
    db_argument,
    is_database_url,
    load_settings,
    login_name,
)
from console.domain.text import clean


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit status 2), not a usage
    block: the line names the argument and points at ``--help``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: with --token and --token-file at the top, a subcommand's own
        # option such as ``migrate --to`` would be refused as ambiguous before it is parsed.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return value

    return parse


def minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100000 minutes")
    return value


PORT = whole_number(0, 65535)
"""A TCP port (0: any free one)."""

TOKEN_HELP = (
    "bearer token for --backend; it shows in ps and shell history: prefer --token-file "
    "or INCIDENTS_TOKEN"
)
TOKEN_FILE_HELP = "read the bearer token from this file (first line), e.g. one only you can read"


def add_token(parser: argparse.ArgumentParser, help: str = TOKEN_HELP, **kwargs: Any) -> None:
    """``--token`` and ``--token-file`` (the way to pass a token that ``ps`` does not show)."""
    parser.add_argument("--token", help=help, **kwargs)
    parser.add_argument("--token-file", type=Path, help=TOKEN_FILE_HELP, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations at the top: the top parser sees every argument, even those after the
    # subcommand, and took ``migrate --to`` for an abbreviation of --token / --token-file.
    parser = Parser(
        prog="incidents",
        allow_abbrev=False,
        description="A keyboard-first terminal console for IT incident response.",
        epilog="A token for --backend: --token-file FILE or the INCIDENTS_TOKEN environment "
        "variable (--token works too, but anyone on the host sees it in ps).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="config file (TOML) to read")
    parser.add_argument(
        "--db", type=db_argument, help="SQLite database file (the embedded default)"
    )
    parser.add_argument("--backend", help="URL of an 'incidents serve' server")
    add_token(parser)
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
    serve.add_argument("--port", type=PORT, help="port to listen on (default 8080; 0: any)")
    serve.add_argument("--demo", action="store_true", help="seed a demo database if empty")
    serve.add_argument(
        "--init",
        action="store_true",
        help="create the database (and its folder) if it does not exist yet",
    )
    serve.set_defaults(handler=("console.cli.serve", "cmd_serve"))

    web = sub.add_parser(
        "web", help="serve the console (or --wall) to browsers; each session signs in"
    )
    web.add_argument(
        "--backend", default=argparse.SUPPRESS, help="URL of the 'incidents serve' server"
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=PORT, default=8000, help="port to listen on (default 8000)")
    web.add_argument(
        "--public-url", help="the URL browsers reach this at, behind a proxy (default from host)"
    )
    web.add_argument(
        "--wall",
        action="store_true",
        help="serve the wall; with a viewer --token (or INCIDENTS_TOKEN) it is a kiosk: no sign-in",
    )
    add_token(
        web,
        help="viewer token for --wall kiosk mode (kept on this side; prefer --token-file)",
        default=argparse.SUPPRESS,
    )
    web.add_argument(
        "--max-sessions",
        type=whole_number(1, 1000),
        default=8,
        help="browser sessions at once (default 8)",
    )
    web.add_argument(
        "--idle-minutes",
        type=minutes,
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
    clist.add_argument("--limit", type=whole_number(1, 100_000), default=50)
    clist.add_argument("--format", choices=["table", "json"], default="table")
    for p in (record, clist):
        p.add_argument(
            "--db", type=db_argument, default=argparse.SUPPRESS, help="SQLite database file"
        )
        p.add_argument("--backend", default=argparse.SUPPRESS, help="URL of a server")
        add_token(p, default=argparse.SUPPRESS)
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
        add_token(p, default=argparse.SUPPRESS)

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
        add_token(
            p, help="admin token for --backend (prefer --token-file)", default=argparse.SUPPRESS
        )
    directory.set_defaults(handler=("console.cli.directory", "cmd_directory"))

    migrate = sub.add_parser("migrate", help="copy a SQLite store into a new PostgreSQL one")
    migrate.add_argument("--from", dest="source", type=Path, required=True, help="SQLite file")
    migrate.add_argument("--to", dest="target", required=True, help="postgresql://user@host/db")
    migrate.set_defaults(handler=("console.cli.migrate", "cmd_migrate"))

    demo = sub.add_parser("demo", help="write a demo database")
    demo.add_argument("--db", type=db_argument, dest="db", help="SQLite database file to create")
    demo.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=None)
    demo.add_argument(
        "--history",
        type=whole_number(0, 1_000_000),
        default=2000,
        help="resolved incidents to create",
    )
    demo.add_argument("--open", dest="open_count", type=whole_number(0, 100_000), default=40)
    demo.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="write the demo's directory as a team.toml instead of a database",
    )
    demo.add_argument("--force", action="store_true", help="replace an existing --export file")
    demo.set_defaults(handler=("console.cli.demo", "cmd_demo"))
    return parser


def read_token_file(path: Path) -> str:
    """The token in ``--token-file``: its first line, without surrounding blanks."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"--token-file {path}: cannot read it ({reason})") from None
    token = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not token:
        raise ConfigError(f"--token-file {path} is empty: put the token on its first line")
    return token


def resolve_settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    updates: dict[str, object] = {}
    for name in ("db", "backend", "token", "user", "theme"):
        value = getattr(args, name, None)
        if value is not None:
            updates[name] = value
    token_file = getattr(args, "token_file", None)
    if token_file is not None:
        if updates.get("token") is not None:
            raise ConfigError("give --token or --token-file, not both")
        updates["token"] = read_token_file(token_file)
    if updates.get("db") is not None and "backend" not in updates:
        updates["backend"] = None  # an explicit --db beats INCIDENTS_BACKEND
    if is_database_url(updates.get("db")):
        updates["database_url"] = updates.pop("db")
    elif updates.get("db") is not None:
        updates["database_url"] = None  # an explicit file beats a URL in INCIDENTS_DB
    if not (updates.get("user") or settings.user):
        updates["user"] = login_name()
    return settings.model_copy(update=updates)


def creates_database(args: argparse.Namespace) -> bool:
    """Whether the command makes a new database on purpose (and so may make its folder)."""
    command = getattr(args, "command", None)
    if command == "demo":
        return getattr(args, "export", None) is None
    if command == "serve":
        return bool(getattr(args, "init", False) or getattr(args, "demo", False))
    return command is None and bool(getattr(args, "demo", False))


def database_problem(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why the database file the settings name cannot be the one meant, if it cannot.

    A folder is not a database; a file in a folder that does not exist is most likely a
    typo, and opening it would quietly make the folder and an empty store (an all-zero
    report, exit 0). Only commands that create a database on purpose make the folder. The
    default file in the platform data folder is made when missing, as on a first start.
    """
    if settings.backend or settings.database_url or settings.db is None:
        return None
    path = settings.db
    if path.is_dir():
        return f"{path} is a folder, not a database file (e.g. --db {path / 'incidents.db'})"
    if not path.parent.exists() and not creates_database(args):
        return (
            f"there is no folder {path.parent} for the database {path.name} (a typo?): "
            "nothing was created; make the folder first, or create a new database there "
            "with 'incidents demo --db PATH' or 'incidents serve --init --db PATH'"
        )
    return None


def _quiet_stdout() -> None:
    """After stdout failed (a full disk, a closed pipe), point it at /dev/null so the
    interpreter's own flush at exit does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def clean_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Every text argument through ``console.domain.text.clean``: the command line is an
    edge like the API (``--as``, ``--summary``, ``--user``, ``--name``, ``--detail``...), so a
    pasted escape sequence or invisible character is not stored. Paths are left alone."""

    def cleaned(value: object) -> object:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, list):
            return [cleaned(item) for item in value]
        return value

    for name, value in vars(args).items():
        if name != "handler":
            setattr(args, name, cleaned(value))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = clean_arguments(parser.parse_args(argv))
    prog = "incidents" + (f" {args.command}" if getattr(args, "command", None) else "")
    try:
        settings = resolve_settings(args)
    except ConfigError as exc:
        print(f"incidents: {exc}", file=sys.stderr)
        return 2
    problem = database_problem(args, settings)
    if problem is not None:
        print(f"{prog}: {problem}", file=sys.stderr)
        return 2
    module_name, function_name = args.handler
    handler = getattr(importlib.import_module(module_name), function_name)
    try:
        code = int(handler(args, settings) or 0)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()  # ``incidents report | head``: the reader has all it wanted
        return 1
    except OSError as exc:
        # Writing the output failed (``> /dev/full``), or a file the command needed.
        _quiet_stdout()
        where = f"{exc.filename}" if exc.filename else "cannot write the output"
        print(f"{prog}: {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
