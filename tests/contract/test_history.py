"""The history query (``Backend.page_incidents``): every incident, resolved ones too, keyset
paged by id with the filter language's fields, the same on every backend."""

from __future__ import annotations

import pytest

from backends.base import Backend, InvalidAction
from console.domain.lifecycle import Acknowledge, Cancel, Resolve
from console.domain.models import (
    Incident,
    IncidentQuery,
    NewIncident,
    Priority,
    Status,
    utc,
)
from console.domain.query import parse
from console.domain.sla import SlaPolicy

ALL = frozenset(Status)


@pytest.fixture
async def history(backend: Backend) -> list[Incident]:
    """23 incidents, oldest first: open, acknowledged, resolved and cancelled, on two
    services, some assigned, some labelled."""
    made: list[Incident] = []
    for n in range(23):
        incident = await backend.create_incident(
            NewIncident(
                title=f"Disk full on db-{n}" if n % 3 == 0 else f"Checkout slow #{n}",
                service="db" if n % 2 else "web",
                impact=1 + n % 3,
                urgency=1 + (n // 3) % 3,
                assignee="bob" if n % 5 == 0 else None,
                labels={"region": "eu-west-1"} if n % 4 == 0 else {},
            ),
            "alice",
        )
        if n % 3 == 1:
            incident = await backend.act(
                incident.id, Resolve(note="fixed"), "carol", incident.version
            )
        elif n % 7 == 2:
            incident = await backend.act(
                incident.id, Cancel(reason="dup"), "carol", incident.version
            )
        elif n % 3 == 2:
            incident = await backend.act(incident.id, Acknowledge(), "carol", incident.version)
        made.append(incident)
    return made


async def every_page(
    backend: Backend, query: IncidentQuery, order: str = "newest"
) -> tuple[list[Incident], int]:
    """All pages of ``query`` in order, and how many pages it took."""
    found: list[Incident] = []
    after: str | None = None
    pages = 0
    while True:
        page = await backend.page_incidents(query, after, order)  # type: ignore[arg-type]
        pages += 1
        assert len(page.incidents) <= query.limit
        found += page.incidents
        if page.next is None:
            return found, pages
        assert page.incidents, "a page that says more follows has incidents"
        after = page.next
        assert pages < 100


async def test_pages_walk_every_incident_newest_first_without_repeats(
    backend: Backend, history: list[Incident]
) -> None:
    found, pages = await every_page(backend, IncidentQuery(statuses=(), limit=5))
    assert [i.id for i in found] == sorted((i.id for i in history), reverse=True)
    assert pages == 5  # 23 in pages of 5
    # each as it is now: the resolved ones resolved
    by_id = {i.id: i for i in history}
    assert all(i.status == by_id[i.id].status and i.version == by_id[i.id].version for i in found)
    oldest, _ = await every_page(backend, IncidentQuery(statuses=(), limit=6), "oldest")
    assert [i.id for i in oldest] == sorted(i.id for i in history)
    # exactly a page: the last page says nothing follows
    whole = await backend.page_incidents(IncidentQuery(statuses=(), limit=23))
    assert len(whole.incidents) == 23 and whole.next is None


async def test_a_new_incident_does_not_shift_the_pages_being_read(
    backend: Backend, history: list[Incident]
) -> None:
    query = IncidentQuery(statuses=(), limit=10)
    first = await backend.page_incidents(query)
    await backend.create_incident(NewIncident(title="Arrived while paging", service="web"), "bob")
    second = await backend.page_incidents(query, first.next)
    ids = [i.id for i in first.incidents + second.incidents]
    assert ids == sorted((i.id for i in history), reverse=True)[:20]


async def test_filters_narrow_the_history_on_the_backend(
    backend: Backend, history: list[Incident]
) -> None:
    async def ids(**fields: object) -> list[int]:
        found, _ = await every_page(backend, IncidentQuery(limit=4, **fields))  # type: ignore[arg-type]
        return [i.id for i in found]

    def expect(predicate: object) -> list[int]:
        return sorted((i.id for i in history if predicate(i)), reverse=True)  # type: ignore[operator]

    resolved = (Status.RESOLVED,)
    assert await ids(statuses=resolved) == expect(lambda i: i.status == Status.RESOLVED)
    assert await ids() == expect(lambda i: i.is_open)  # the default: open ones
    assert await ids(statuses=(), terms=("disk",)) == expect(lambda i: "Disk" in i.title)
    assert await ids(statuses=(), terms=("bob",)) == expect(lambda i: i.assignee == "bob")
    assert await ids(statuses=(), terms=("eu-west",)) == expect(lambda i: bool(i.labels))
    assert await ids(statuses=(), terms=("region=eu",)) == expect(lambda i: bool(i.labels))
    assert await ids(statuses=(), terms=("disk", "web")) == expect(
        lambda i: "Disk" in i.title and i.service == "web"
    )
    assert await ids(statuses=(), service_prefixes=("w",)) == expect(lambda i: i.service == "web")
    key = history[7].key
    assert await ids(statuses=(), keys=(key,)) == [history[7].id]
    number = key.removeprefix("INC-")
    assert history[7].id in await ids(statuses=(), terms=(number,))
    assert await ids(statuses=resolved, priorities=(Priority.P1, Priority.P2)) == expect(
        lambda i: i.status == Status.RESOLVED and i.priority.rank <= 2
    )
    # % and _ are plain characters, not patterns
    assert await ids(statuses=(), terms=("%",)) == []
    assert await ids(statuses=(), terms=("_",)) == []


@pytest.mark.parametrize(
    "text",
    [
        "status:all",
        "status:resolved",
        "status:all disk",
        "status:all svc:d",
        "status:done @bob",
        "status:all unassigned p1 p2 p3",
        "status:all eu-west",
        "slow",
        "status:all INC-3 INC-5",
    ],
)
async def test_the_history_is_what_the_filter_language_selects(
    backend: Backend, history: list[Incident], text: str
) -> None:
    """The backend's page and ``Filter.matches`` (the filter's one definition) agree."""
    wanted = parse(text)
    now = max(utc(i.updated_at) for i in history)
    query = wanted.to_query("alice", now).model_copy(update={"limit": 3})
    found, _ = await every_page(backend, query)
    expected = sorted(
        (i.id for i in history if wanted.matches(i, now, SlaPolicy(), "alice")), reverse=True
    )
    assert [i.id for i in found] == expected


async def test_new_query_fields_narrow_the_queue_list_and_count_too(
    backend: Backend, history: list[Incident]
) -> None:
    query = IncidentQuery(statuses=tuple(ALL), terms=("disk",), service_prefixes=("d",))
    found = await backend.list_incidents(query)
    expected = {i.id for i in history if "Disk" in i.title and i.service == "db"}
    assert {i.id for i in found} == expected
    assert await backend.count_incidents(query) == len(expected)


async def test_a_cursor_the_backend_did_not_hand_out_is_refused(
    backend: Backend, history: list[Incident]
) -> None:
    for bad in ("abc", "-1", "1e9", "9" * 30):
        with pytest.raises(InvalidAction):
            await backend.page_incidents(IncidentQuery(statuses=()), bad)
