"""Hypothesis fuzzing of both intake bodies through the real FastAPI app (in-process):
never a 5xx, and a refused body stores nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from backends.sqlite.tokens import SqliteTokenStore
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.http.app import create_app
from tests.intake.conftest import T0, seed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
HOSTILE = st.lists(
    st.text(max_size=6)
    | st.sampled_from(["\x1b[31m", "\x1b]8;;http://x\x07", "[bold]", "\u202e", "\x00", "\n", "%"]),
    max_size=4,
).map("".join)
NONEMPTY = st.tuples(st.sampled_from("abc"), HOSTILE).map("".join)
TIMES = (
    st.sampled_from(
        ["0001-01-01T00:00:00Z", "2026-11-27T06:55:50.145014539Z", "2026-11-27T07:00:00+02:00"]
    )
    | HOSTILE
)
LABELS = st.dictionaries(HOSTILE, HOSTILE, max_size=4) | st.fixed_dictionaries(
    {"alertname": HOSTILE, "severity": st.sampled_from(["critical", "warning", "info", "x"])}
)


def maybe_broken(values: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The dict as is, or with one field dropped or replaced by any JSON value."""
    keys = sorted(values)
    keep = st.just(values)
    return st.one_of(
        keep,
        keep,
        keep,
        keep,
        st.sampled_from(keys).map(lambda k: {n: v for n, v in values.items() if n != k}),
        st.tuples(st.sampled_from(keys), JSON).map(lambda kv: {**values, kv[0]: kv[1]}),
    )


AM_ALERT = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "labels": LABELS,
        "annotations": st.dictionaries(
            st.sampled_from(["summary", "description", "runbook_url", "x"]), HOSTILE, max_size=3
        ),
        "startsAt": TIMES,
        "endsAt": TIMES,
        "generatorURL": HOSTILE,
        "fingerprint": st.sampled_from(["a", "b", "c", ""]) | HOSTILE,
    }
).flatmap(maybe_broken)

AM_BODY = st.fixed_dictionaries(
    {
        "version": st.just("4"),
        "groupKey": st.sampled_from(["g1", "g2"]) | NONEMPTY,
        "status": st.sampled_from(["firing", "resolved"]),
        "receiver": HOSTILE,
        "groupLabels": LABELS,
        "commonLabels": LABELS,
        "commonAnnotations": st.dictionaries(HOSTILE, HOSTILE, max_size=2),
        "externalURL": HOSTILE,
        "truncatedAlerts": st.integers(min_value=0, max_value=3),
        "alerts": st.lists(AM_ALERT, max_size=4),
    }
).flatmap(maybe_broken)


def events_body(key: str) -> st.SearchStrategy[dict[str, Any]]:
    payload = st.fixed_dictionaries(
        {
            "summary": NONEMPTY,
            "source": NONEMPTY,
            "severity": st.sampled_from(["critical", "error", "warning", "info"]),
            "timestamp": TIMES,
            "component": HOSTILE,
            "group": HOSTILE,
            "class": HOSTILE,
            "custom_details": JSON,
        }
    ).flatmap(maybe_broken)
    return st.fixed_dictionaries(
        {
            "routing_key": st.sampled_from([key, key, key, key, "0" * 40]),
            "event_action": st.sampled_from(
                ["trigger", "trigger", "trigger", "acknowledge", "resolve", "bogus"]
            ),
            "dedup_key": st.sampled_from(["d1", "d2", "d3"]),
            "payload": payload,
            "links": st.lists(
                st.fixed_dictionaries({"href": NONEMPTY, "text": HOSTILE}), max_size=2
            ),
            "images": st.lists(st.fixed_dictionaries({"src": NONEMPTY}), max_size=1),
        }
    ).flatmap(maybe_broken)


class Harness:
    """One store and app for many examples, on one event loop."""

    def __init__(self, tmp: Path) -> None:
        self.runner = asyncio.Runner()
        self.runner.__enter__()
        self.am_key, self.ev_key = self.runner.run(self._open(tmp))

    async def _open(self, tmp: Path) -> tuple[str, str]:
        clock = FrozenClock(T0)
        self.store = await SqliteBackend(tmp / "f.db", settings=Settings(), clock=clock).open()
        await seed(self.store)
        _, am = await sqlite_intake.create_integration(self.store, "checkout", "alertmanager")
        _, ev = await sqlite_intake.create_integration(self.store, "checkout", "events")
        app = create_app(self.store, Settings(), clock=clock, tokens=SqliteTokenStore(self.store))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://fuzz.test"
        )
        return am, ev

    async def counts(self) -> tuple[Any, ...]:
        rows = await self.store.fetchall(
            "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM alerts),"
            " (SELECT count(*) FROM timeline), (SELECT coalesce(max(seq), 0) FROM changes),"
            " (SELECT count(*) FROM alerts WHERE incident_id NOT IN (SELECT id FROM incidents))"
        )
        return rows[0]

    def post(self, path: str, body: Any, **kw: Any) -> tuple[int, tuple[Any, ...], tuple[Any, ...]]:
        async def go() -> tuple[int, tuple[Any, ...], tuple[Any, ...]]:
            before = await self.counts()
            content = json.dumps(body) if not isinstance(body, bytes) else body
            response = await self.client.post(path, content=content, **kw)
            return response.status_code, before, await self.counts()

        return self.runner.run(go())

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.run(self.store.close())
        self.runner.__exit__(None, None, None)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    try:
        yield h
    finally:
        h.close()


FUZZ = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(status: int, before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    assert status < 500, status
    assert after[4] == 0, "every alert belongs to an incident"
    if status >= 300:
        assert after == before, "a refused body stores nothing"
    else:
        assert after[1] >= before[1] and after[3] >= before[3]


@FUZZ
@given(body=st.one_of(AM_BODY, AM_BODY, AM_BODY, JSON))
def test_fuzz_alertmanager(harness: Harness, body: Any) -> None:
    status, before, after = harness.post(
        "/v1/integrations/alertmanager", body, headers={"Authorization": f"Bearer {harness.am_key}"}
    )
    check(status, before, after)


@FUZZ
@given(data=st.data())
def test_fuzz_events(harness: Harness, data: st.DataObject) -> None:
    valid = events_body(harness.ev_key)
    body = data.draw(st.one_of(valid, valid, valid, JSON))
    status, before, after = harness.post("/v1/integrations/events", body)
    check(status, before, after)
    if isinstance(body, dict) and body.get("routing_key") == "0" * 40:
        assert status == 400


@FUZZ
@given(raw=st.binary(max_size=200))
def test_fuzz_raw_bytes(harness: Harness, raw: bytes) -> None:
    for path in ("/v1/integrations/alertmanager", "/v1/integrations/events"):
        status, before, after = harness.post(
            path, raw, headers={"Authorization": f"Bearer {harness.am_key}"}
        )
        check(status, before, after)
