"""The history query's plan on SQLite: it walks the history index in id order and never sorts
what it found (a sort would read every match before the first page; bench/history.py has the
figures on a million incidents)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends.common.sql import page
from backends.sqlite.store import SqliteBackend
from console.domain.query import parse


@pytest.mark.parametrize(
    "text", ["status:all", "status:resolved", "svc:pay @alice p1", "status:all disk", "breached"]
)
@pytest.mark.parametrize("after", [None, "500"])
async def test_a_history_page_walks_the_history_index_without_sorting(
    tmp_path: Path, text: str, after: str | None
) -> None:
    path = tmp_path / "plan.db"
    async with SqliteBackend(path):
        pass
    now = datetime(2026, 3, 2, tzinfo=UTC)
    query = parse(text).to_query("alice", now).model_copy(update={"limit": 50})
    sql, params = page(
        query, after, "newest", now.timestamp(), hint=" INDEXED BY incidents_history"
    )
    with sqlite3.connect(path) as conn:
        plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "incidents_history" in plan
    assert "TEMP B-TREE" not in plan
