"""``incidents directory apply|export|check`` and ``incidents demo --export`` on real files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.cli.main import main
from console.domain.models import IncidentQuery, NewIncident, Status

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "team.toml"


def last_seq(db: Path) -> int:
    async def read() -> int:
        async with SqliteBackend(db) as store:
            return await store.last_seq()

    return asyncio.run(read())


def test_demo_directory_round_trips_through_a_store_identically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported, back, db = tmp_path / "demo.toml", tmp_path / "back.toml", tmp_path / "x.db"
    assert main(["demo", "--export", str(exported)]) == 0
    assert main(["directory", "apply", str(exported), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "plan: 31 to create, 0 to change, 0 to remove" in out
    assert f"applied to {db}" in out
    assert main(["directory", "export", "--db", str(db), "--out", str(back)]) == 0
    assert back.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    # an export never replaces a file by accident
    assert main(["directory", "export", "--db", str(db), "--out", str(back)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().err


def test_apply_twice_changes_nothing_the_second_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["directory", "apply", str(EXAMPLE), "--db", str(db)]) == 0
    seq = last_seq(db)
    assert seq == 8  # one change-feed entry per entry written
    capsys.readouterr()
    assert main(["directory", "apply", str(EXAMPLE), "--db", str(db)]) == 0
    assert capsys.readouterr().out == "no changes: the store already matches the file\n"
    assert last_seq(db) == seq


def test_dry_run_prints_the_plan_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["directory", "apply", str(EXAMPLE), "--db", str(db)]) == 0
    seq = last_seq(db)
    edited = tmp_path / "team.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    text = (
        text.replace('name = "Website"', 'name = "Web site"')
        .replace(
            '[[people]]\nhandle = "chloe"\nname = "Chloé Martin"\nteam = "ops"\nemail = "chloe@example.com"\n',
            "",
        )
        .replace('people = ["ana", "ben", "chloe"]', 'people = ["ana", "ben"]')
    )
    edited.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["directory", "apply", str(edited), "--db", str(db), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "plan: 0 to create, 2 to change, 1 to remove",
        "  - remove person chloe",
        "  ~ change schedule ops-oncall (layers)",
        "  ~ change service web (name)",
        "dry run: nothing was written",
    ]
    assert last_seq(db) == seq


def test_errors_name_file_line_and_field_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    bad = tmp_path / "team.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'team = "ops"\nemail = "ben@', 'team = "opz"\nemail = "ben@'
    )
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index('team = "opz"') + 1
    assert main(["directory", "apply", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:{line}: people[2].team: no team 'opz' (known: ops)" in err
    assert "1 problem; nothing was written" in err
    assert main(["directory", "apply", str(tmp_path / "missing.toml"), "--db", str(db)]) == 1
    assert "there is no file" in capsys.readouterr().err


def test_removing_a_service_open_incidents_use_is_refused_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["directory", "apply", str(EXAMPLE), "--db", str(db)]) == 0

    async def open_one() -> str:
        async with SqliteBackend(db) as store:
            incident = await store.create_incident(
                NewIncident(title="replica lag", service="database"), "ana"
            )
            return incident.key

    key = asyncio.run(open_one())
    without = tmp_path / "team.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text[: text.index('[[services]]\nid = "database"')].replace(
        'depends_on = ["database"]\n', ""
    )
    without.write_text(text, encoding="utf-8")
    seq = last_seq(db)
    capsys.readouterr()
    assert main(["directory", "apply", str(without), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert f"cannot remove service 'database': open incidents use it ({key})" in err
    assert last_seq(db) == seq

    async def still_there() -> list[str]:
        async with SqliteBackend(db) as store:
            everything = IncidentQuery(statuses=tuple(Status))
            assert [i.key for i in await store.list_incidents(everything)] == [key]
            return [s.id for s in await store.services()]

    assert asyncio.run(still_there()) == ["database", "web"]


def test_check_validates_without_a_store_and_reports_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["directory", "check", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == f"{EXAMPLE}: valid\n"
    office = tmp_path / "team.toml"
    office.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            'length = "1w"', 'length = "1d"\nactive_hours = [9, 17]'
        ),
        encoding="utf-8",
    )
    assert main(["directory", "check", str(office)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "warning: nobody on call from" in out[0]
    assert out[-1] == f"{office}: valid, {len(out) - 1} warnings"
