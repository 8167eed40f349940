"""Pure pieces of the HTTP layer, without I/O: SSE parsing, query encoding, backoff, metrics."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends.remote import Retry, query_params, sse_events
from backends.sqlite.store import SqliteBackend
from console.domain.models import IncidentQuery, Priority, Service, Status, User
from console.domain.tokens import digest, role_allows, split_token
from console.http.change_stream import ChangeHub
from console.http.metrics import RequestMetrics, gauge
from console.http.routes.incidents import query_params as server_query
from tests.waiting import wait_until


async def lines(*items: str):  # type: ignore[no-untyped-def]
    for item in items:
        yield item


async def test_sse_parser_reads_ids_events_multiline_data_and_skips_comments() -> None:
    stream = lines(
        "retry: 2000",
        ": connected",
        "",
        "id: 7",
        "event: change",
        'data: {"a":',
        "data: 1}",
        "",
        ": ping",
        "",
        "data:no space",
        "",
    )
    events = [event async for event in sse_events(stream)]
    assert [(e.id, e.event, e.data) for e in events] == [
        ("7", "change", '{"a":\n1}'),
        (None, "message", "no space"),
    ]


def decode(params: list[tuple[str, str]]) -> IncidentQuery:
    """What the server's query parser makes of the client's query string."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for name, value in params:
        grouped[name].append(value)
    single = {k: v[0] for k, v in grouped.items() if k in ("text", "sort", "limit", "offset")}
    return server_query(
        status=grouped.get("status"),
        priority=[Priority(p) for p in grouped.get("priority", [])] or None,
        service=grouped.get("service"),
        assignee=grouped.get("assignee"),
        text=single.get("text", ""),
        breached={"true": True, "false": False}.get(grouped.get("breached", [""])[0]),
        resolved_since=datetime.fromisoformat(grouped["resolved_since"][0])
        if "resolved_since" in grouped
        else None,
        sort=single.get("sort", "urgency"),  # type: ignore[arg-type]
        limit=int(single.get("limit", 500)),
        offset=int(single.get("offset", 0)),
    )


@pytest.mark.parametrize(
    "query",
    [
        IncidentQuery(),
        IncidentQuery(statuses=()),
        IncidentQuery(statuses=(Status.RESOLVED,), resolved_since=datetime(2026, 1, 2, tzinfo=UTC)),
        IncidentQuery(priorities=(Priority.P1, Priority.P2), services=("web", "db"), text="disk"),
        IncidentQuery(assignees=(None, "rex"), breached=True, sort="age", limit=7, offset=3),
        IncidentQuery(breached=False),
    ],
)
def test_the_query_string_round_trips(query: IncidentQuery) -> None:
    assert decode(query_params(query)) == query


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    retry = Retry(base_delay=0.1, max_delay=2.0)
    for attempt, ceiling in ((1, 0.1), (2, 0.2), (3, 0.4), (6, 2.0), (30, 2.0)):
        delays = {retry.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, so restarted consoles do not arrive together


def test_metrics_text_format() -> None:
    metrics = RequestMetrics(buckets=(0.01, 0.1))
    metrics.observe("GET", "/v1/incidents", 200, 0.005)
    metrics.observe("GET", "/v1/incidents", 200, 0.05)
    metrics.observe("GET", "/v1/incidents", 404, 0.5)
    text = "\n".join(metrics.render())
    assert (
        'incidents_http_requests_total{method="GET",route="/v1/incidents",status="200"} 2' in text
    )
    assert (
        'incidents_http_requests_total{method="GET",route="/v1/incidents",status="404"} 1' in text
    )
    bucket = 'incidents_http_request_duration_seconds_bucket{method="GET",route="/v1/incidents",'
    assert f'{bucket}status="200",le="0.01"}} 1' in text
    assert f'{bucket}status="200",le="0.1"}} 2' in text  # cumulative
    assert f'{bucket}status="200",le="+Inf"}} 2' in text
    assert f'{bucket}status="404",le="0.1"}} 0' in text
    assert f'{bucket}status="404",le="+Inf"}} 1' in text
    count = "incidents_http_request_duration_seconds_count"
    assert f'{count}{{method="GET",route="/v1/incidents",status="200"}} 2' in text
    lines = gauge("g", "help", [({"name": 'a"b\\c\nd'}, 1.5)])
    assert lines[-1] == 'g{name="a\\"b\\\\c\\nd"} 1.5'


def test_tokens_parse_and_roles_order() -> None:
    assert split_token("inc_ab12_s3cr_et") == ("ab12", "s3cr_et")
    for bad in ("", "inc_", "inc__x", "abc_ab12_x", "inc_ab12_"):
        assert split_token(bad) is None
    assert digest("x") != "x" and len(digest("x")) == 64
    assert role_allows("admin", "responder") and role_allows("responder", "viewer")
    assert not role_allows("viewer", "responder") and not role_allows("nobody", "viewer")


async def test_the_hub_serves_from_memory_only_what_it_holds(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "hub.db") as store:
        await store.put_service(Service(id="web", name="Web"))  # seq 1
        hub = ChangeHub(store, keep=3)
        hub.seq = hub.floor = 1  # as if started after the first change
        for n in range(5):  # seqs 2..6
            await store.put_user(User(id=f"u{n}", name="U"))
        await hub.fetch()
        assert hub.seq == 6 and hub.floor == 3
        assert [c.seq for c in hub.buffer] == [4, 5, 6]
        assert [c.seq for c in hub.after(4) or []] == [5, 6]
        assert [c.seq for c in hub.after(3) or []] == [4, 5, 6]
        assert hub.after(2) is None  # change 3 left memory: the stream reads the store
        assert hub.after(6) == [] and hub.after(99) == []
        assert not await hub.wait_after(6, 0.05)  # nothing new: times out
        hub.close()
        assert not await hub.wait_after(6, 5)  # closed: returns at once


class _CountedWatch:
    """A store whose ``watch()`` iterators are counted while they run."""

    def __init__(self, store: SqliteBackend) -> None:
        self.store = store
        self.started = 0
        self.running = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def watch(self, since_seq: int | None = None):  # type: ignore[no-untyped-def]
        self.started += 1
        self.running += 1
        try:
            async for change in self.store.watch(since_seq):
                yield change
        finally:
            self.running -= 1


async def test_the_hub_follows_the_store_watch_only_while_a_stream_is_open(
    tmp_path: Path,
) -> None:
    """With no stream open a poke does nothing, so following the watch (which on SQLite
    reads the feed after every commit, intake's included) would be work for nobody."""
    async with SqliteBackend(tmp_path / "hub.db") as store:
        counted = _CountedWatch(store)
        hub = ChangeHub(counted, poll=0.05, listen=True)  # type: ignore[arg-type]
        await hub.start()
        try:
            await store.put_user(User(id="a", name="A"))
            last = await store.last_seq()
            await wait_until(lambda: hub.seq == last, what="the poll reads the feed")
            assert counted.started == 0  # the poll read it; nobody followed the watch

            hub.opened()
            await wait_until(lambda: counted.running == 1, what="a stream starts the watch")
            await store.put_user(User(id="b", name="B"))
            last = await store.last_seq()
            await wait_until(lambda: hub.seq == last, what="the stream's hub sees the change")

            hub.ended()
            await store.put_user(User(id="c", name="C"))  # the watch reports it, then stops
            await wait_until(lambda: counted.running == 0, what="the watch stops")
            assert counted.started == 1
        finally:
            await hub.stop()
