"""The ranges a value must fall in before any store sees it.

An integer outside SQLite's (and PostgreSQL's ``bigint``) 64-bit range cannot be bound to
a statement, and a datetime near ``datetime.max`` overflows the moment it is moved to UTC
or has a target added to it. The edges (the HTTP routes, intake parsing, the CLI) check
against these, so such input is refused (or, for alert times, treated as absent) with the
field named, never turned into a crash.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_INT = 2**63 - 1
"""The largest integer a store column holds (signed 64-bit)."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No incident, alert or query instant is earlier than this."""

LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Nor later than this: far enough for any real date, far from ``datetime.max`` so that
adding the longest SLA target or window never overflows."""

MAX_WINDOW = timedelta(days=36_500)
"""The longest report window (a hundred years)."""


def in_range(at: datetime) -> bool:
    """Whether an aware ``at`` lies between ``EARLIEST`` and ``LATEST`` (no overflow)."""
    try:
        return EARLIEST <= at <= LATEST
    except (OverflowError, TypeError):
        return False


def parse_id(text: str) -> int | None:
    """``text`` as a non-negative store integer, or ``None`` when it is not one.

    Only ASCII digits count (``"²".isdigit()`` is true, ``int("²")`` fails), and only
    values that fit a 64-bit column.
    """
    text = text.strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_INT else None
