"""The queue's sort orders, defined once for every place that orders incidents.

A sort is a tuple of ``Term``\\ s over a few facts of an incident (``SortRow``). Two
readers use the same definition:

- a store builds its ``ORDER BY`` from ``ORDERS`` (each store maps a ``Field`` to its
  column or expression: ``backends/sqlite/store.py``), so the page it returns is in this
  order;
- the console's incremental queue keys each row with ``sort_key`` and keeps them sorted,
  so a change moves one row without asking the store again.

Because both read these terms, the console can never show another order than the store's
(``tests/unit/test_order.py`` checks it over a real SQLite file for random incidents and
every sort).

What the facts mean:

- ``due`` is the due time a store indexes (``console.domain.sla.sort_due``, which is
  ``breach_due``): when the incident counts as breached (possibly in the past), ``None``
  when time alone cannot breach it (on hold inside target, or finished). ``None`` sorts
  after every time.
- ``breached`` is ``due <= now``: exactly ``console.domain.sla.is_breached``, the one
  definition the header, the filter, the wall, ``/metrics`` and the reports count.
- Every order ends with the id, so it is total: two incidents never tie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from console.domain.models import Priority, SortKey
from console.domain.sla import SlaFacts, SlaPolicy, sort_due


class Field(StrEnum):
    BREACHED = "breached"
    """0 when ``due <= now`` (breached), 1 otherwise."""
    PRIORITY = "priority"
    """The priority rank, 1 (P1) .. 5 (P5)."""
    DUE = "due"
    """The indexed due time; ``None`` last."""
    CREATED = "created"
    UPDATED = "updated"
    ID = "id"


@dataclass(frozen=True, slots=True)
class Term:
    field: Field
    descending: bool = False


def _terms(*names: str) -> tuple[Term, ...]:
    return tuple(Term(Field(name.lstrip("-")), name.startswith("-")) for name in names)


ORDERS: dict[SortKey, tuple[Term, ...]] = {
    # breached first, then priority, then the nearest due time
    "urgency": _terms("breached", "priority", "due", "id"),
    # priority, oldest first (what the console's sort key has always said)
    "priority": _terms("priority", "created", "id"),
    "age": _terms("created", "id"),
    "updated": _terms("-updated", "-id"),
    "sla": _terms("due", "id"),
}
"""Every sort a query can ask for, most wanted first."""


class SortFacts(Protocol):
    """What the sorts read of an incident (an ``Incident`` or an ``IncidentRow``)."""

    @property
    def id(self) -> int: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class SortRow:
    """The facts of one incident that the sorts read (times as epoch seconds)."""

    id: int
    rank: int
    due: float | None
    created: float
    updated: float


def sort_row(incident: SortFacts, due: datetime | None) -> SortRow:
    """The row of ``incident``; ``due`` must be ``sort_due(incident, ...)`` (see above)."""
    return SortRow(
        id=incident.id,
        rank=incident.priority.rank,
        due=None if due is None else due.timestamp(),
        created=incident.created_at.timestamp(),
        updated=incident.updated_at.timestamp(),
    )


class RowFacts(SortFacts, SlaFacts, Protocol):
    """An incident as ``row_of`` reads it (its sort facts and its SLA clocks)."""


def row_of(incident: RowFacts, policy: SlaPolicy, now: datetime) -> SortRow:
    """The row of ``incident``, computing its due time (when none is known yet)."""
    return sort_row(incident, sort_due(incident, policy, now))


def _value(row: SortRow, field: Field, now: float) -> float:
    if field is Field.BREACHED:
        return 0.0 if row.due is not None and row.due <= now else 1.0
    if field is Field.PRIORITY:
        return row.rank  # the int itself: small ints are shared, a float would be a new object
    if field is Field.DUE:
        return math.inf if row.due is None else row.due
    if field is Field.CREATED:
        return row.created
    if field is Field.UPDATED:
        return row.updated
    return row.id  # the incident's own int (a key per row held: no new object)


def sort_key(sort: SortKey, row: SortRow, now: float) -> tuple[float, ...]:
    """A key that sorts ``row`` in the place ``ORDERS[sort]`` gives it at ``now``."""
    return tuple(
        -_value(row, term.field, now) if term.descending else _value(row, term.field, now)
        for term in ORDERS[sort]
    )


def time_dependent(sort: SortKey) -> bool:
    """Whether a row's key can change with time alone (without a new version)."""
    return any(term.field is Field.BREACHED for term in ORDERS[sort])
