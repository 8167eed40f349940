"""The queue filter language: parsing, errors, client-side matching and the backend query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.models import Incident, Priority, Status
from console.domain.query import OPEN_STATUSES, VIEWS, Filter, QueryError, parse
from console.domain.sla import SlaPolicy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = SlaPolicy()


def incident(**changes: object) -> Incident:
    base: dict[str, object] = {
        "id": 1,
        "key": "INC-1",
        "title": "Checkout returns 502 for EU customers",
        "service": "checkout",
        "priority": Priority.P2,
        "created_at": NOW - timedelta(minutes=5),
        "updated_at": NOW - timedelta(minutes=5),
    }
    base.update(changes)
    return Incident.model_validate(base)


def test_priorities_are_ored() -> None:
    f = parse("p1 P2")
    assert f.priorities == {Priority.P1, Priority.P2}
    assert f.matches(incident(priority=Priority.P2), NOW, POLICY, "alice")
    assert not f.matches(incident(priority=Priority.P3), NOW, POLICY, "alice")


def test_kinds_are_anded() -> None:
    f = parse("p2 svc:payments")
    assert not f.matches(incident(), NOW, POLICY, None)
    assert f.matches(incident(service="payments"), NOW, POLICY, None)


def test_assignees_me_and_unassigned() -> None:
    assert parse("@me").matches(incident(assignee="alice"), NOW, POLICY, "alice")
    assert not parse("@me").matches(incident(assignee="bob"), NOW, POLICY, "alice")
    assert parse("@bob").matches(incident(assignee="bob"), NOW, POLICY, "alice")
    assert parse("@me").matches(incident(assignee="Alice"), NOW, POLICY, "ALICE")
    assert parse("unassigned").matches(incident(), NOW, POLICY, "alice")
    assert not parse("unassigned").matches(incident(assignee="bob"), NOW, POLICY, "alice")
    either = parse("@bob unassigned")
    assert either.matches(incident(), NOW, POLICY, "alice")
    assert either.matches(incident(assignee="bob"), NOW, POLICY, "alice")


def test_status_words() -> None:
    assert parse("status:ack").statuses == {Status.ACKNOWLEDGED}
    assert parse("status:hold").statuses == {Status.ON_HOLD}
    assert parse("status:resolved,closed").statuses == {Status.RESOLVED, Status.CLOSED}
    assert parse("").statuses == OPEN_STATUSES
    assert not parse("").matches(incident(status=Status.RESOLVED), NOW, POLICY, None)
    assert parse("status:all").matches(incident(status=Status.RESOLVED), NOW, POLICY, None)


def test_free_text_and_quoted_phrases() -> None:
    f = parse('502 "eu customers"')
    assert f.text == ("502", "eu customers")
    assert f.matches(incident(), NOW, POLICY, None)
    assert not parse('"customers eu"').matches(incident(), NOW, POLICY, None)
    assert parse("CHECKOUT").matches(incident(), NOW, POLICY, None)  # case-insensitive
    # a quoted phrase may hold what would otherwise be a filter
    assert parse('"svc:x"').text == ("svc:x",)


def test_breached_and_breaching_follow_the_clock() -> None:
    p2 = incident(priority=Priority.P2, created_at=NOW - timedelta(minutes=25))
    assert not parse("breached").matches(p2, NOW, POLICY, None)
    assert parse("breaching").matches(p2, NOW, POLICY, None)  # 25 of 30 minutes: warning
    later = NOW + timedelta(minutes=6)
    assert parse("breached").matches(p2, later, POLICY, None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("svc:", "'svc:' needs a value"),
        ("status:", "'status:' needs a value"),
        ("status:nope", "unknown status 'nope'"),
        ("owner:bob", "unknown filter 'owner:'"),
        ("@", "'@' needs a user"),
        ('"unclosed', "unclosed"),
    ],
)
def test_errors_name_the_token(text: str, fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert fragment in str(caught.value)


def test_to_query_for_the_backend() -> None:
    query = parse("p1 svc:db @me unassigned breached disk").to_query("alice", NOW)
    assert query.priorities == (Priority.P1,)
    # service prefixes and free text over several fields are left to Filter.matches
    assert query.services == () and query.text == ""
    assert set(query.assignees) == {"alice", None}
    assert query.breached is True
    resolved = VIEWS["resolved"].filter.to_query("alice", NOW)
    assert resolved.resolved_since == NOW - timedelta(hours=24)
    assert set(resolved.statuses) == {Status.RESOLVED, Status.CLOSED}


def test_views_combine_with_typed_filter() -> None:
    mine_p1 = VIEWS["mine"].filter.combine(parse("p1"))
    assert mine_p1.priorities == {Priority.P1}
    assert mine_p1.assignees == {"@me"}
    resolved_text = VIEWS["resolved"].filter.combine(parse("login"))
    assert resolved_text.statuses == {Status.RESOLVED, Status.CLOSED}
    done = incident(
        status=Status.RESOLVED, title="Login slow", resolved_at=NOW - timedelta(hours=2)
    )
    assert resolved_text.matches(done, NOW, POLICY, None)
    old = done.model_copy(update={"resolved_at": NOW - timedelta(hours=30)})
    assert not resolved_text.matches(old, NOW, POLICY, None)
    assert Filter().is_empty and not parse("p1").is_empty


def test_keys_in_every_form_free_text_over_fields_and_service_prefixes() -> None:
    from console.domain.models import Incident

    incident = Incident(
        id=2039,
        key="INC-2039",
        title="Card declines",
        service="shipping",
        assignee="hannah",
        labels={"region": "eu-west-1"},
        created_at=NOW,
        updated_at=NOW,
    )
    policy = SlaPolicy()
    for text in ("INC-2039", "inc-2039", "2039", "svc:ship", "hannah", "eu-west", "shipping"):
        assert parse(text).matches(incident, NOW, policy, "alice"), text
    for text in ("INC-203", "inc-20390", "svc:hip", "bob", "status:resolved"):
        assert not parse(text).matches(incident, NOW, policy, "alice"), text
    # a typed status: replaces the view's, from every view
    assert VIEWS["all"].filter.combine(parse("status:resolved")).statuses == {Status.RESOLVED}
    assert VIEWS["all"].filter.combine(parse("p1")).statuses == VIEWS["all"].filter.statuses
