"""The queue's pure model: incremental order equals a full re-sort; SLA states move by heap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from console.domain.models import Incident, Priority, Status, priority_for
from console.domain.query import parse
from console.domain.rows import IncidentRow
from console.domain.sla import SlaPolicy, SlaState
from widgets.queue_model import QueueModel, SlaTracker

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make(n: int, rng: random.Random, now: datetime = NOW) -> Incident:
    impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
    created = now - timedelta(minutes=rng.randint(0, 600))
    status = rng.choice([Status.TRIGGERED, Status.ACKNOWLEDGED, Status.RESOLVED])
    return Incident(
        id=n,
        key=f"INC-{n}",
        title=f"thing {n}",
        service=rng.choice(["a", "b"]),
        status=status,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        assignee=rng.choice([None, "alice", "bob"]),
        acknowledged_at=created + timedelta(minutes=1) if status != Status.TRIGGERED else None,
        resolved_at=created + timedelta(minutes=2) if status == Status.RESOLVED else None,
        created_at=created,
        updated_at=created,
        version=1,
    )


def test_incremental_updates_match_a_full_rebuild() -> None:
    rng = random.Random(3)
    tracker = SlaTracker(SlaPolicy())
    model = QueueModel(tracker, "alice")
    first = [make(n, rng) for n in range(1, 300)]
    tracker.update(first, NOW)
    model.upsert(first, NOW)
    for sort in ("urgency", "priority", "age", "updated"):
        model.set_sort(sort, NOW)  # type: ignore[arg-type]
        for step in range(40):
            changed = []
            for _ in range(rng.randint(1, 5)):
                old = model.incidents[rng.randint(1, 299)]
                new = make(old.id, rng).model_copy(update={"version": old.version + 1})
                changed.append(new)
            tracker.update(changed, NOW)
            model.upsert(changed, NOW)
            incremental = model.ids()
            model.rebuild(NOW)
            assert incremental == model.ids(), (sort, step)
            for index, incident_id in enumerate(model.ids()):
                assert model.index_of(incident_id) == index
            assert all(model.incidents[i].is_open for i in model.ids())


def test_filter_applies_to_changes() -> None:
    rng = random.Random(5)
    tracker = SlaTracker(SlaPolicy())
    model = QueueModel(tracker, "alice")
    batch = [make(n, rng) for n in range(1, 50)]
    tracker.update(batch, NOW)
    model.upsert(batch, NOW)
    model.set_filter(parse("@me p1 p2 p3"), NOW)
    for incident_id in model.ids():
        incident = model.incidents[incident_id]
        assert incident.assignee == "alice" and incident.priority.rank <= 3
    mine = next(i for i in batch if i.assignee != "alice" and i.is_open)
    taken = mine.model_copy(
        update={"assignee": "alice", "priority": Priority.P1, "version": mine.version + 1}
    )
    tracker.update([taken], NOW)
    model.upsert([taken], NOW)
    assert model.contains(taken.id)
    placed = model.ids()
    model.rebuild(NOW)
    assert placed == model.ids()
    # only breached incidents and other P1s come before the new P1
    position = placed.index(taken.id)
    assert all(
        model.incidents[i].priority == Priority.P1 or tracker.state(i, NOW) == SlaState.BREACHED
        for i in placed[:position]
    )
    # taking it away from me removes it from the view
    given = taken.model_copy(update={"assignee": "bob", "version": taken.version + 1})
    tracker.update([given], NOW)
    model.upsert([given], NOW)
    assert not model.contains(taken.id)


def test_tracker_advances_only_what_changes() -> None:
    policy = SlaPolicy()
    tracker = SlaTracker(policy)
    p1 = Incident(
        id=1,
        key="INC-1",
        title="x",
        service="a",
        priority=Priority.P1,
        impact=1,
        urgency=1,
        created_at=NOW - timedelta(minutes=5),
        updated_at=NOW,
    )
    assert tracker.update([p1], NOW) == []
    assert tracker.state(1, NOW) == SlaState.RUNNING
    changed, newly = tracker.advance(NOW + timedelta(minutes=5))
    assert changed == set() and newly == []  # nothing due yet (warning at 11m15s)
    changed, newly = tracker.advance(NOW + timedelta(minutes=7))
    assert changed == {1} and newly == []
    assert tracker.state(1, NOW + timedelta(minutes=7)) == SlaState.WARNING
    changed, newly = tracker.advance(NOW + timedelta(minutes=11))
    assert changed == {1} and newly == [1]
    assert tracker.breached == {1}
    # acknowledging late stops the response clock past its target: it stays breached (one
    # definition, console.domain.sla.is_breached), though the resolution clock runs in time
    acked = p1.model_copy(
        update={
            "status": Status.ACKNOWLEDGED,
            "acknowledged_at": NOW + timedelta(minutes=12),
            "version": 2,
        }
    )
    assert tracker.update([acked], NOW + timedelta(minutes=12)) == []  # not a new breach
    assert tracker.breached == {1}
    assert tracker.state(1, NOW + timedelta(minutes=12)) == SlaState.BREACHED
    # a stale heap entry of version 1 is ignored
    assert tracker.advance(NOW + timedelta(hours=1)) == (set(), [])


def _p5() -> Incident:
    """A P5 created at NOW: its response clock warns after 2d06h (75 %) and breaches after 3d."""
    return Incident(
        id=1,
        key="INC-1",
        title="x",
        service="a",
        priority=Priority.P5,
        impact=3,
        urgency=3,
        created_at=NOW,
        updated_at=NOW,
    )


def test_tracker_heap_stays_bounded_under_many_versions() -> None:
    tracker = SlaTracker(SlaPolicy())
    incident = _p5()
    for version in range(1, 2000):
        tracker.update([incident.model_copy(update={"version": version})], NOW)
    assert len(tracker._events) <= 4 * len(tracker.info) + 256 + 2
    changed, _ = tracker.advance(NOW + timedelta(days=3, minutes=1))  # response due (3d)
    assert changed == {1}  # the live instants survived the compaction


def test_a_version_that_does_not_move_the_clock_adds_no_heap_entry() -> None:
    tracker = SlaTracker(SlaPolicy())
    incident = _p5()
    for version in range(1, 50):
        tracker.update([incident.model_copy(update={"version": version})], NOW)
    assert len(tracker._events) == 1  # the warning instant, once
    changed, _ = tracker.advance(NOW + timedelta(days=2, hours=6))  # 75 % of the 3d response
    assert changed == {1} and len(tracker._events) == 1  # now the breach instant
    assert tracker.state(1, NOW + timedelta(days=2, hours=6)) == SlaState.WARNING


def test_an_instant_that_moves_later_adds_no_heap_entry() -> None:
    """Acknowledging moves the next instant from the response warning (P5: 2d6h) to the
    resolution warning (22.5 days): the one entry moves on when it comes due, no other."""
    tracker = SlaTracker(SlaPolicy())
    incident = _p5()
    tracker.update([incident], NOW)
    acked = incident.model_copy(
        update={
            "version": 2,
            "status": Status.ACKNOWLEDGED,
            "acknowledged_at": NOW + timedelta(hours=1),
        }
    )
    tracker.update([acked], NOW + timedelta(hours=1))
    assert len(tracker._events) == 1
    changed, _ = tracker.advance(NOW + timedelta(days=2, hours=6, minutes=1))
    assert changed == set() and len(tracker._events) == 1  # moved on, nothing changed
    assert tracker.state(1, NOW + timedelta(days=2, hours=7)) == SlaState.RUNNING
    changed, _ = tracker.advance(NOW + timedelta(days=22, hours=12, minutes=1))
    assert changed == {1}
    assert tracker.state(1, NOW + timedelta(days=22, hours=13)) == SlaState.WARNING


def test_an_instant_that_moves_earlier_queues_it_and_skips_the_old_entry() -> None:
    tracker = SlaTracker(SlaPolicy())
    incident = _p5()
    tracker.update([incident], NOW)
    raised = incident.model_copy(update={"version": 2, "priority": Priority.P3})  # 4h response
    tracker.update([raised], NOW)
    assert len(tracker._events) == 2  # the old entry (2d6h) is stale now
    changed, _ = tracker.advance(NOW + timedelta(hours=3, minutes=1))  # 75 % of 4h
    assert changed == {1}
    changed, newly = tracker.advance(NOW + timedelta(hours=4, minutes=1))
    assert changed == {1} and newly == [1]
    changed, newly = tracker.advance(NOW + timedelta(days=3))
    assert (changed, newly) == (set(), []) and tracker._events == []


def _counted_from_scratch(model: QueueModel) -> tuple[dict[Priority, int], int, int]:
    by_priority = dict.fromkeys(Priority, 0)
    unacknowledged = total = 0
    for incident in model.incidents.values():
        if incident.status in (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.ON_HOLD):
            total += 1
            by_priority[incident.priority] += 1
            unacknowledged += incident.status == Status.TRIGGERED
    return by_priority, unacknowledged, total


def test_header_counts_follow_every_change_without_a_recount() -> None:
    """The counts are kept as incidents arrive, change (status, priority) and leave; each
    step they equal a count over everything held (big batches and small, replacements)."""
    rng = random.Random(11)
    tracker = SlaTracker(SlaPolicy())
    model = QueueModel(tracker, None)
    model.incidents = {i.id: IncidentRow(i) for i in (make(n, rng) for n in range(1, 50))}
    for step in range(60):
        size = rng.choice([1, 3, 250])  # > 200 takes the merge path
        changed = []
        for _ in range(size):
            n = rng.randint(1, 400)
            old = model.incidents.get(n)
            new = make(n, rng)
            if old is not None:
                new = new.model_copy(update={"version": old.version + 1})
            changed.append(new)
        tracker.update(changed, NOW)
        model.upsert(changed, NOW)
        if step % 7 == 3:
            model.remove(rng.sample(sorted(model.incidents), 5))
        counts = model.counts()
        assert (counts.by_priority, counts.unacknowledged, counts.open) == (
            _counted_from_scratch(model)
        ), step
