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
