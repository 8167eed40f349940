"""Settings: TOML files, unknown keys, environment overrides, documented fields."""

from __future__ import annotations

import typing
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from console.domain.config import (
    ConfigError,
    Settings,
    default_config_path,
    default_db_path,
    load_settings,
    settings_from,
)
from console.domain.models import Priority
from console.domain.sla import BusinessCalendar, SlaPolicy, Target


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Platform directories point into the test's temp dir, never at a real user config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


FULL = """
user = "ana"
theme = "high-contrast"
bell = true
escalator = false

[keymap]
acknowledge = "A"
quit = "q,ctrl+q"

[sla]
warning = 0.8

[sla.targets.P1]
response = "PT10M"
resolution = "2h"

[sla.targets.P2]
response = 600
resolution = "1d 4h"

[sla.targets.P3]
response = "01:30:00"

[sla.calendar]
timezone = "Europe/Berlin"
weekdays = [0, 1, 2, 3]
start = 08:00:00
end = "16:30"
holidays = [2026-12-25, "2026-12-26"]

[server]
port = 9000

[demo]
rate = 2.5
seed = 7
"""


def test_defaults_without_a_file() -> None:
    assert not default_config_path().exists()
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.sla == SlaPolicy()
    assert settings.database_path() == default_db_path()
    assert default_db_path().name == "incidents.db"


def test_a_full_toml_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), env={})
    assert settings.user == "ana"
    assert settings.theme == "high-contrast"
    assert settings.bell is True and settings.escalator is False
    assert settings.keymap == {"acknowledge": "A", "quit": "q,ctrl+q"}
    sla = settings.sla
    assert sla.warning == 0.8
    assert sla.targets[Priority.P1] == Target(
        response=timedelta(minutes=10), resolution=timedelta(hours=2)
    )
    assert sla.targets[Priority.P2] == Target(
        response=timedelta(minutes=10), resolution=timedelta(hours=28)
    )
    assert sla.target(Priority.P3, "response") == timedelta(minutes=90)
    assert sla.target(Priority.P3, "resolution") == timedelta(days=3)
    assert sla.target(Priority.P5, "resolution") == timedelta(days=30)
    assert sla.calendar == BusinessCalendar(
        timezone="Europe/Berlin",
        weekdays=(0, 1, 2, 3),
        start=time(8),
        end=time(16, 30),
        holidays=(date(2026, 12, 25), date(2026, 12, 26)),
    )
    assert settings.server.port == 9000
    assert (settings.demo.rate, settings.demo.seed) == (2.5, 7)


def test_the_default_file_in_the_config_directory_is_read() -> None:
    path = default_config_path()
    path.parent.mkdir(parents=True)
    path.write_text('theme = "high-contrast"\n', encoding="utf-8")
    assert load_settings(env={}).theme == "high-contrast"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 1\n", "'colour'"),
        ("[sla]\nwarnign = 0.8\n", "'sla.warnign'"),
        ("[sla.targets.P1]\nrespons = '5m'\n", "'sla.targets.P1.respons'"),
        ("[sla.calendar]\ntz = 'UTC'\n", "'sla.calendar.tz'"),
        ("[server]\nprot = 1\n", "'server.prot'"),
        ("[demo]\nrat = 1\n", "'demo.rat'"),
    ],
)
def test_unknown_keys_are_refused_with_the_key_named(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert f"unknown key {key}" in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('theme = "neon"\n', "theme"),
        ("[sla]\nwarning = 2\n", "sla.warning"),
        ("[sla.targets.P1]\nresponse = 'soon'\n", "sla.targets.P1.response"),
        ("[sla.targets.P1]\nresponse = 0\n", "sla.targets.P1.response"),
        ("[sla.targets.P9]\nresponse = '5m'\n", "sla.targets.P9"),
        ("[sla.calendar]\ntimezone = 'Mars/Base'\n", "sla.calendar.timezone"),
        ("[server]\nport = 70000\n", "server.port"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=f"invalid configuration in .*{where}"):
        load_settings(write(tmp_path, text), env={})


def test_unknown_keymap_ids_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[keymap]\nacknowlege = "A"\n')
    with pytest.raises(ConfigError, match="keymap.*unknown binding id 'acknowlege'"):
        load_settings(path, env={})
    with pytest.raises(ConfigError, match="has no keys"):
        load_settings(write(tmp_path, '[keymap]\nquit = " "\n'), env={})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'db = "/from/file.db"\ntoken = "file-token"\n')
    env = {
        "INCIDENTS_DB": str(tmp_path / "env.db"),
        "INCIDENTS_BACKEND": "http://127.0.0.1:8080",
        "INCIDENTS_TOKEN": "env-token",
    }
    settings = load_settings(path, env=env)
    assert settings.db == tmp_path / "env.db"
    assert settings.database_path() == tmp_path / "env.db"
    assert settings.backend == "http://127.0.0.1:8080"
    assert settings.token == "env-token"


def test_empty_environment_values_do_not_override(tmp_path: Path) -> None:
    path = write(tmp_path, 'token = "file-token"\n')
    assert load_settings(path, env={"INCIDENTS_TOKEN": ""}).token == "file-token"


def test_incidents_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'user = "from-env-file"\n', name="other.toml")
    assert load_settings(env={"INCIDENTS_CONFIG": str(path)}).user == "from-env-file"
    explicit = write(tmp_path, 'user = "explicit"\n', name="explicit.toml")
    assert load_settings(explicit, env={"INCIDENTS_CONFIG": str(path)}).user == "explicit"


def test_the_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTS_CONFIG", str(write(tmp_path, 'user = "env"\n')))
    monkeypatch.setenv("INCIDENTS_TOKEN", "t0k")
    settings = load_settings()
    assert (settings.user, settings.token) == ("env", "t0k")


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=f"config file {missing} does not exist"):
        load_settings(missing, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"INCIDENTS_CONFIG": str(missing)})


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[sla\nwarning = \n")
    with pytest.raises(ConfigError, match=f"{path} is not valid TOML: .*line 1"):
        load_settings(path, env={})


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path, env={})
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(binary, env={})


def test_settings_from_a_mapping() -> None:
    assert settings_from({"bell": True}).bell is True
    with pytest.raises(ConfigError, match="invalid configuration in flags: unknown key 'x'"):
        settings_from({"x": 1}, "flags")


def _models(annotation: object) -> list[type[BaseModel]]:
    """Every pydantic model class inside a field annotation (dict values, optionals...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _documented(model: type[BaseModel], path: str, seen: set[type]) -> list[str]:
    missing = []
    seen.add(model)
    for name, field in model.model_fields.items():
        where = f"{path}{name}"
        if not (field.description or "").strip():
            missing.append(where)
        for nested in _models(field.annotation):
            if nested not in seen:
                missing += _documented(nested, f"{where}.", seen)
    return missing


def test_every_setting_is_documented() -> None:
    seen: set[type] = set()
    assert _documented(Settings, "", seen) == []
    assert {SlaPolicy, Target, BusinessCalendar} <= seen


def test_duration_forms_are_documented() -> None:
    doc = Target.model_fields["response"].description or ""
    assert "PT15M" in doc and "15m" in doc and "seconds" in doc


def test_db_path_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings(env={"INCIDENTS_DB": "~/ops/incidents.db"})
    assert settings.database_path() == tmp_path / "ops" / "incidents.db"


def test_settings_round_trip_through_json(tmp_path: Path) -> None:
    """What a server or a test hands around as JSON reads back as the same settings."""
    settings = load_settings(write(tmp_path, FULL), env={})
    assert settings_from(settings.model_dump(mode="json")) == settings


def test_a_postgresql_url_in_incidents_db_or_db_selects_the_team_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.cli.main import build_parser, resolve_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    url = "postgresql://ops@db1:5432/incidents"
    settings = load_settings(env={"INCIDENTS_DB": url})
    assert settings.database_url == url and settings.db is None
    args = build_parser().parse_args(["--db", url, "report"])
    assert resolve_settings(args).database_url == url
    args = build_parser().parse_args(["--db", "/tmp/x.db", "report"])
    chosen = resolve_settings(args)
    assert chosen.database_url is None and chosen.db == Path("/tmp/x.db")
