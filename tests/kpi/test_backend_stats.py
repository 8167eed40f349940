"""The same story replayed through a real store (SQLite, PostgreSQL) gives the same KPIs as
the pure computation (and so the hand-computed numbers of ``test_kpis.py``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.kpis import compute_kpis
from tests.kpi.fixture import NOW, SERVICES, WEEK, build, replay


@pytest.mark.parametrize(
    ("since", "filters"),
    [
        (WEEK, {}),
        (timedelta(hours=24), {}),
        (timedelta(days=30), {}),
        (WEEK, {"team": "data"}),
        (WEEK, {"team": "platform"}),
        (WEEK, {"service": "web"}),
    ],
)
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_store_stats_equal_the_pure_computation(
    tmp_path: Path, since, filters, kind: str
) -> None:
    backend = await replay(tmp_path / "kpis.db", kind=kind)
    try:
        got = await backend.stats(since, **filters)
    finally:
        await backend.close()
    incidents, timelines = build()
    expected = compute_kpis(
        incidents, timelines, since=since, now=NOW, services=SERVICES, **filters
    )
    assert got == expected
    assert got.model_dump_json() == expected.model_dump_json()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_the_hand_computed_numbers_through_a_store(tmp_path: Path, kind: str) -> None:
    backend = await replay(tmp_path / "kpis.db", kind=kind)
    try:
        week = await backend.stats(WEEK)
    finally:
        await backend.close()
    # see test_kpis.py for the arithmetic
    assert (week.created, week.acknowledged, week.resolved, week.reopened) == (6, 4, 5, 1)
    assert (week.mtta.mean, week.mtta.median, week.mtta.p90) == (1725.0, 1500.0, 3600.0)
    assert (week.mttr.mean, week.mttr.median, week.mttr.p90) == (218160.0, 18000.0, 1036800.0)
    assert week.first_call.share == 0.6
