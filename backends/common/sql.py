"""The incident query's WHERE clause, in standard SQL with ``?`` placeholders.

A store whose driver numbers its parameters (``$1``) rewrites the marks; nothing here is
specific to one engine. ``is_open = 1`` is written as a literal so a partial index of open
incidents applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backends.common.rows import ts
from console.domain.models import OPEN_STATUSES, HistoryOrder, IncidentQuery, SortKey, Status
from console.domain.order import ORDERS, Field

# How each field of the domain's sort orders (``console.domain.order``) reads in SQL; the
# ``?`` is now. ``sla_due`` is NULL exactly when the domain's due is ``None``; NULLs go last.
_ORDER_SQL: dict[Field, str] = {
    Field.BREACHED: "CASE WHEN sla_due <= ? THEN 0 ELSE 1 END",
    Field.PRIORITY: "priority",
    Field.DUE: "sla_due IS NULL, sla_due",
    Field.CREATED: "created_at",
    Field.UPDATED: "updated_at",
    Field.ID: "id",
}


def order_by(sort: SortKey) -> str:
    """The ``ORDER BY`` list of the domain's ``ORDERS[sort]`` (a ``?`` in it is now)."""
    parts = []
    for term in ORDERS[sort]:
        sql = _ORDER_SQL[term.field]
        if term.descending:
            sql = ", ".join(f"{part} DESC" for part in sql.split(", "))
        parts.append(sql)
    return ", ".join(parts)


def like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (``ESCAPE '\\'``)."""
    return f"%{_escape(text)}%"


def marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def where(query: IncidentQuery, now: float) -> tuple[str, list[Any]]:
    """``(" WHERE ...", params)`` selecting what ``query`` asks for (``now`` in epoch s)."""
    clauses: list[str] = []
    params: list[Any] = []
    statuses = sorted({status.value for status in query.statuses})
    if len(statuses) == len(Status):
        statuses = []  # every status: no clause (a history of all is a plain walk by id)
    if statuses:
        if set(statuses) <= {status.value for status in OPEN_STATUSES}:
            # The literal lets the engine use the partial index of open incidents.
            clauses.append("is_open = 1")
            if len(statuses) < len(OPEN_STATUSES):
                clauses.append(f"status IN ({marks(statuses)})")
                params += statuses
        else:
            clauses.append(f"status IN ({marks(statuses)})")
            params += statuses
    if query.priorities:
        ranks = sorted({priority.rank for priority in query.priorities})
        clauses.append(f"priority IN ({marks(ranks)})")
        params += ranks
    if query.services:
        clauses.append(f"service IN ({marks(query.services)})")
        params += list(query.services)
    if query.assignees:
        named = [name for name in query.assignees if name is not None]
        either = []
        if named:
            either.append(f"assignee IN ({marks(named)})")
            params += named
        if None in query.assignees:
            either.append("assignee IS NULL")
        clauses.append("(" + " OR ".join(either) + ")")
    if query.text.strip():
        # lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
        clauses.append("lower(title) LIKE lower(?) ESCAPE '\\'")
        params.append(like(query.text.strip()))
    if query.breached is True:
        clauses.append("sla_due <= ?")
        params.append(now)
    elif query.breached is False:
        clauses.append("(sla_due IS NULL OR sla_due > ?)")
        params.append(now)
    if query.escalator_due:
        clauses.append("escalator_due <= ?")
        params.append(now)
    if query.resolved_since is not None:
        clauses.append("resolved_at >= ?")
        params.append(ts(query.resolved_since))
    if query.keys:
        clauses.append(f"key IN ({marks(query.keys)})")
        params += [key.upper() for key in query.keys]
    if query.service_prefixes:
        # lower() folds ASCII on every engine: service ids are ASCII slugs
        clauses.append(
            "("
            + " OR ".join("lower(service) LIKE ? ESCAPE '\\'" for _ in query.service_prefixes)
            + ")"
        )
        params += [prefix_like(prefix.lower()) for prefix in query.service_prefixes]
    for term in query.terms:
        # ``search`` is already lower-cased (console.domain.query.searchable), as are terms
        if term.isdigit():
            clauses.append("(search LIKE ? ESCAPE '\\' OR key = ?)")
            params += [like(term), f"INC-{int(term)}"]
        else:
            clauses.append("search LIKE ? ESCAPE '\\'")
            params.append(like(term.lower()))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def prefix_like(text: str) -> str:
    """A LIKE pattern matching what starts with ``text`` (``ESCAPE '\\'``)."""
    return _escape(text) + "%"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(
    query: IncidentQuery, after: str | None, order: HistoryOrder, now: float, *, hint: str = ""
) -> tuple[str, list[Any]]:
    """``SELECT id ...`` for one history page (keyset on the id: ``id < cursor`` newest
    first), asking for one row more than the page so the caller knows if another follows.
    ``hint`` follows the table name (SQLite's ``INDEXED BY ...``)."""
    where_sql, params = where(query, now)
    if after is not None:
        where_sql += (" AND " if where_sql else " WHERE ") + (
            "id < ?" if order == "newest" else "id > ?"
        )
        params.append(cursor_id(after))
    direction = "DESC" if order == "newest" else "ASC"
    params.append(query.limit + 1)
    return f"SELECT id FROM incidents{hint}{where_sql} ORDER BY id {direction} LIMIT ?", params


def cursor_id(cursor: str) -> int:
    """The id a history cursor stands for; ``ValueError`` for anything else."""
    if not cursor.isdigit() or len(cursor) > 19:
        raise ValueError(f"not a history cursor: {cursor[:40]!r}")
    return int(cursor)


def next_cursor(ids: Sequence[int], limit: int) -> tuple[list[int], str | None]:
    """The page's ids (``limit`` of them) and the cursor after the last, if more follow."""
    if len(ids) > limit:
        ids = list(ids[:limit])
        return ids, str(ids[-1])
    return list(ids), None


def numbered(sql: str, start: int = 1) -> str:
    """``sql`` with each ``?`` mark turned into ``$1``, ``$2``, ... (for drivers such as
    asyncpg that number their parameters). The statements here never hold a literal ``?``."""
    parts = sql.split("?")
    out = [parts[0]]
    for n, part in enumerate(parts[1:], start=start):
        out.append(f"${n}{part}")
    return "".join(out)


OPEN_COUNTS = (
    "SELECT priority, status, count(*), sum(CASE WHEN sla_due <= ? THEN 1 ELSE 0 END)"
    " FROM incidents WHERE is_open = 1 GROUP BY priority, status"
)
"""``backends.capabilities.Tally``: (priority rank, status, open, breached) per group; the
parameter is ``now`` in epoch seconds. ``sla_due`` is ``console.domain.sla.breach_due``
(the one definition of breached), so ``sla_due <= now`` is "breached at ``now``". Only the
partial index over open incidents is read."""
