"""Presence: announcements expire, one per console, and read the way a colleague would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.presence import (
    TTL,
    acting_warning,
    announcement,
    live,
    others_on,
    summary,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_an_announcement_expires_after_its_ttl() -> None:
    seen = announcement("c1", "ines", NOW, incident_id=7)
    assert live([seen], NOW + TTL - timedelta(seconds=1)) == [seen]
    assert live([seen], NOW + TTL) == []


def test_the_latest_announcement_of_a_console_wins() -> None:
    old = announcement("c1", "ines", NOW, incident_id=7)
    new = announcement("c1", "ines", NOW + timedelta(seconds=5), incident_id=8, action="note")
    assert live([new, old], NOW + timedelta(seconds=6)) == [new]


def test_others_on_an_incident_leave_me_out_and_put_actors_first() -> None:
    entries = [
        announcement("me", "bob", NOW, incident_id=7),
        announcement("c2", "ines", NOW, incident_id=7),
        announcement("c3", "ada", NOW, incident_id=7, action="acknowledge"),
        announcement("c4", "yuki", NOW, incident_id=9),
        announcement("c5", "rex", NOW),
    ]
    others = others_on(entries, 7, me="me", now=NOW)
    assert [p.user for p in others] == ["ada", "ines"]
    assert summary(others) == "ada acknowledging…, ines viewing"
    assert acting_warning(others, "INC-7") == "careful: ada is acknowledging INC-7 right now"
    assert acting_warning(others[1:], "INC-7") == ""


def test_summary_counts_the_rest() -> None:
    many = [announcement(f"c{n}", f"u{n}", NOW, incident_id=1) for n in range(5)]
    assert summary(many) == "u0 viewing, u1 viewing, u2 viewing +2"
