"""Change events: the Change Events v2 body, cleaning, times, and correlation rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from console.domain.changes import (
    Candidate,
    ChangeEvent,
    candidates,
    had_change_before,
    new_change,
    parse_change_event,
    related_services,
)
from console.domain.intake import IntakeError
from console.domain.models import LinkKind

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# The example body of PagerDuty's Change Events documentation, as a deploy tool sends it.
DOC_BODY = {
    "routing_key": "samplekeyhere",
    "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2020-07-17T08:42:58.315+0000",
        "source": "acme-build-pipeline-tool-default-i-9999",
        "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s"},
    },
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}


def test_the_documented_body_is_taken_as_sent() -> None:
    key, change = parse_change_event(json.dumps(DOC_BODY), NOW)
    assert key == "samplekeyhere"
    assert change.summary.startswith("Build Success")
    assert change.source == "acme-build-pipeline-tool-default-i-9999"
    assert change.at == datetime(2020, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert change.details == {"build_state": "passed", "build_number": "2", "run_time": "1236s"}
    assert [(link.kind, link.ref, link.title) for link in change.links] == [
        (LinkKind.URL, "https://acme.pagerduty.dev/build/2", "View more details in Acme!")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload": {"summary": "x"}}, "routing_key"),
        ({"routing_key": "k"}, "payload"),
        ({"routing_key": "k", "payload": {}}, "payload.summary"),
        ({"routing_key": "k", "payload": {"summary": ""}}, "payload.summary"),
        ({"routing_key": "k", "payload": {"summary": 5}}, "payload.summary"),
        ({"routing_key": "k", "payload": {"summary": "x" * 1025}}, "payload.summary"),
        (
            {"routing_key": "k", "payload": {"summary": "x", "timestamp": "soon"}},
            "payload.timestamp",
        ),
        (
            {"routing_key": "k", "payload": {"summary": "x"}, "links": [{"text": "t"}]},
            "links.0.href",
        ),
    ],
)
def test_a_bad_body_names_the_field(body: dict, field: str) -> None:
    with pytest.raises(IntakeError) as caught:
        parse_change_event(json.dumps(body), NOW)
    assert any(error.startswith(field) for error in caught.value.errors), caught.value.errors


def test_not_json_is_refused() -> None:
    with pytest.raises(IntakeError):
        parse_change_event(b"{not json", NOW)


def test_text_is_cleaned_everywhere() -> None:
    body = {
        "routing_key": "k\u202e",
        "payload": {
            "summary": "deploy \x1b[31mred\x1b[0m \u202eevil",
            "source": "ci\x07",
            "custom_details": {"note\x1b]0;x\x07": "a\u009bb", "nested": ["\x1b[2J"]},
        },
        "links": [{"href": "https://ci/1", "text": "log\u202e"}],
    }
    key, change = parse_change_event(json.dumps(body), NOW)
    text = json.dumps(change.model_dump(mode="json"), ensure_ascii=False) + key
    for bad in ("\x1b", "\u202e", "\u009b", "\x07"):
        assert bad not in text
    assert change.summary == "deploy red evil"


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-14:00", "2026-12-01T12:00:00Z"])
def test_a_future_timestamp_is_recorded_at_receipt_with_a_note(stamp: str) -> None:
    body = {"routing_key": "k", "payload": {"summary": "x", "timestamp": stamp}}
    _key, change = parse_change_event(json.dumps(body), NOW)
    assert change.at == NOW
    assert stamp[:10] in change.details["timestamp_note"]


def test_huge_details_are_cut_not_refused() -> None:
    body = {
        "routing_key": "k",
        "payload": {"summary": "x", "custom_details": {"log": "y" * 90_000}},
    }
    _key, change = parse_change_event(json.dumps(body), NOW)
    assert len(json.dumps(change.details)) < 20_000


def test_a_change_recorded_from_the_cli_is_checked_the_same_way() -> None:
    made = new_change("checkout", " \x1b[1mv2.3\x1b[0m ", now=NOW, links=[("https://ci/9", "run")])
    assert (made.service, made.summary, made.at) == ("checkout", "v2.3", NOW)
    with pytest.raises(IntakeError) as caught:
        new_change("checkout", "\x1b[1m", now=NOW)
    assert caught.value.errors[0].startswith("summary")


def _change(n: int, service: str, minutes_before: float) -> ChangeEvent:
    at = NOW - timedelta(minutes=minutes_before)
    return ChangeEvent(
        id=n, service=service, summary=f"change {n}", at=at, recorded_at=at, recorded_by="ci"
    )


def test_candidates_are_the_window_before_newest_first_with_dependencies() -> None:
    changes = [
        _change(1, "checkout", 30),
        _change(2, "checkout", 4),
        _change(3, "payments", 10),
        _change(4, "search", 2),  # another service: never a candidate
        _change(5, "checkout", 200),  # outside the window
        _change(6, "checkout", -2),  # 2 minutes after the start: inside the grace
        _change(7, "checkout", -20),  # long after: not a cause
    ]
    found = candidates(
        "checkout",
        NOW,
        changes,
        dependencies={"checkout": ["payments"], "payments": ["checkout"]},
        window=timedelta(hours=1),
    )
    assert [c.change.id for c in found] == [6, 2, 3, 1]
    assert found[1].describe() == "deployed 4m00s before this incident"
    assert found[2].describe() == (
        "deployed 10m00s before this incident (on payments, via checkout -> payments)"
    )
    assert found[0].describe() == "deployed 2m00s after it started"


def test_dependency_paths_are_transitive_and_loops_end() -> None:
    deps = {"web": ["api"], "api": ["db", "web"], "db": []}
    assert related_services("web", deps) == {
        "web": "",
        "api": "web -> api",
        "db": "web -> api -> db",
    }


def test_prior_hour_kpi_rule() -> None:
    assert had_change_before("checkout", NOW, [_change(1, "checkout", 59)])
    assert not had_change_before("checkout", NOW, [_change(1, "checkout", 61)])
    assert not had_change_before("checkout", NOW, [_change(1, "checkout", -1)])


def test_a_candidate_links_as_a_change() -> None:
    link = _change(12, "checkout", 3).link()
    assert (link.kind, link.ref, link.title) == (LinkKind.CHANGE, "CHG-12", "change 12")
    assert isinstance(Candidate(_change(1, "x", 1), timedelta(0)).describe(), str)
