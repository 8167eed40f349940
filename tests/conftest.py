"""Session-wide fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres_cluster() -> Iterator[None]:
    """The throw-away PostgreSQL cluster (``tests.postgres``), if a test started one, is
    stopped when the session ends (in every xdist worker too)."""
    yield
    from tests.postgres import stop_cluster

    stop_cluster()


@pytest.fixture(autouse=True)
def _own_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own platform data and config folders: a review draft, a default
    database or a config file one test (or a person's earlier run) left behind must never
    change what another test sees (``P`` asks before replacing a draft it finds there)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
