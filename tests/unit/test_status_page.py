"""The status page rules: service states, the history window, the whitelist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.models import EntryKind, Incident, Priority, Service, Status, TimelineEntry
from console.domain.status_page import HISTORY_DAYS, ServiceState, build_status_page

NOW = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
SERVICES = [Service(id="web", name="Web shop"), Service(id="mail", name="Mail")]


def incident(id: int, **changes: object) -> Incident:
    base = Incident(
        id=id,
        key=f"INC-{id}",
        title=f"internal {id}",
        service="web",
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=1),
        public=True,
        public_title=f"public {id}",
        assignee="carol",
        priority=Priority.P3,
    )
    return base.model_copy(update=changes)


def entry(incident_id: int, kind: EntryKind, message: str, at: datetime) -> TimelineEntry:
    return TimelineEntry(
        incident_id=incident_id, version=2, at=at, actor="alice", kind=kind, message=message
    )


def test_states_come_from_open_public_incidents_only() -> None:
    page = build_status_page(
        SERVICES,
        [
            incident(1, priority=Priority.P1, public=False),  # not public: no effect
            incident(2, priority=Priority.P4, service="mail"),
            incident(3, priority=Priority.P1, status=Status.RESOLVED, resolved_at=NOW),
        ],
        {},
        NOW,
    )
    assert {s.id: s.state for s in page.services} == {
        "web": ServiceState.OPERATIONAL,
        "mail": ServiceState.DEGRADED,
    }
    assert page.state == ServiceState.DEGRADED
    assert [i.key for i in page.open] == ["INC-2"] and [i.key for i in page.recent] == ["INC-3"]


def test_only_public_entries_are_shown_newest_first() -> None:
    at = NOW - timedelta(minutes=30)
    entries = {
        4: [
            entry(4, EntryKind.PUBLISHED, "investigating", at),
            entry(4, EntryKind.NOTE, "the root password is hunter2", at + timedelta(minutes=1)),
            entry(4, EntryKind.PUBLIC_UPDATE, "fixed", at + timedelta(minutes=2)),
        ]
    }
    page = build_status_page(SERVICES, [incident(4)], entries, NOW)
    assert [u.message for u in page.open[0].updates] == ["fixed", "investigating"]
    text = page.model_dump_json()
    for internal in ("hunter2", "carol", "alice", "internal 4"):
        assert internal not in text


def test_the_history_covers_thirty_days_and_drops_older_incidents() -> None:
    old_end = NOW - timedelta(days=HISTORY_DAYS + 1)
    inside = NOW - timedelta(days=HISTORY_DAYS - 2)
    page = build_status_page(
        SERVICES,
        [
            incident(
                5,
                status=Status.CLOSED,
                created_at=old_end - timedelta(hours=1),
                resolved_at=old_end,
                closed_at=old_end,
            ),
            incident(
                6, status=Status.RESOLVED, created_at=inside - timedelta(days=1), resolved_at=inside
            ),
        ],
        {},
        NOW,
    )
    assert len(page.history) == HISTORY_DAYS
    assert page.history[0].day == NOW.date()
    assert page.history[-1].day == (NOW - timedelta(days=HISTORY_DAYS - 1)).date()
    days = [day.day for day in page.history if day.incidents]
    assert days == [inside.date(), (inside - timedelta(days=1)).date()]
    assert [i.key for i in page.recent] == ["INC-6"]
