"""KPI numbers against a hand computation over ``fixture.py`` (pure, no I/O).

NOW = 2026-03-10 12:00 UTC; the 7-day window is [2026-03-03 12:00, 2026-03-10 12:00].
Default SLA targets: P1 15m/4h, P2 30m/8h, P3 4h/3d, P4 1d/10d.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from console.domain.durations import elapsed as format_seconds
from console.domain.durations import window as format_window
from console.domain.kpis import (
    ReportError,
    compute_kpis,
    duration_stats,
    mtta,
    parse_window,
    render_csv,
    render_json,
    render_table,
)
from console.domain.models import Priority, Status
from console.domain.sla import BusinessCalendar, SlaPolicy
from tests.kpi.fixture import NOW, SERVICES, WEEK, build, by_label


@pytest.fixture(scope="module")
def week():
    incidents, timelines = build()
    return compute_kpis(incidents, timelines, since=WEEK, now=NOW, services=SERVICES)


def test_the_fixture_is_what_the_hand_computation_assumes() -> None:
    incidents, _ = build()
    got = by_label(incidents)
    assert got["C"].reopen_count == 1 and got["C"].status == Status.RESOLVED
    assert got["D"].assignee == "frank" and got["D"].escalation_level == 2
    assert got["E"].status == Status.TRIGGERED
    assert got["H"].status == Status.CANCELLED
    [pause] = got["B"].pauses
    assert pause.end is not None and pause.end - pause.start == timedelta(hours=4)


def test_counts(week) -> None:
    # created in the window: A (03-09), B (03-08), C (03-05), D (03-07), E (03-09),
    # H (03-06) = 6; F (02-20) and G (03-01) were created before it.
    assert week.created == 6
    # acknowledged in the window: A, B, C, D = 4 (E never, F on 02-20, H cancelled)
    assert week.acknowledged == 4
    # final resolution in the window: A, B, C, D, F (03-04 00:00) = 5; G resolved 03-02
    assert week.resolved == 5
    # C was reopened once before its final resolution
    assert week.reopened == 1
    # only E is open
    assert week.open_now == 1


def test_mtta(week) -> None:
    # A 10:00 -> 10:05 = 300 s; B 08:00 -> 08:20 = 1200 s; C 00:00 -> 01:00 = 3600 s;
    # D 12:00 -> 12:30 = 1800 s (the first acknowledgement, after the escalation)
    # sorted 300, 1200, 1800, 3600
    # mean = (300 + 1200 + 1800 + 3600) / 4 = 6900 / 4 = 1725
    # median = (1200 + 1800) / 2 = 1500
    # p90: nearest rank ceil(0.9 * 4) = 4 -> 3600
    assert week.mtta.model_dump() == {"count": 4, "mean": 1725.0, "median": 1500.0, "p90": 3600.0}


def test_mttr_excludes_hold_and_the_time_resolved_before_a_reopen(week) -> None:
    # A 10:00 -> 11:00 = 3600 s
    # B 08:00 -> 14:00 is 6 h on the wall, minus 4 h on hold (09:00-13:00) = 2 h = 7200 s
    # C 00:00 -> 09:00 is 9 h, minus 2 h resolved before the reopen (03:00-05:00) = 7 h
    #   = 25200 s (measured to the final resolution)
    # D 12:00 -> 17:00 = 5 h = 18000 s
    # F 02-20 00:00 -> 03-04 00:00 = 12 days (February 2026 has 28 days) = 1036800 s
    # sorted 3600, 7200, 18000, 25200, 1036800; sum = 1090800
    # mean = 1090800 / 5 = 218160; median = 18000; p90: ceil(0.9 * 5) = 5 -> 1036800
    assert week.mttr.model_dump() == {
        "count": 5,
        "mean": 218160.0,
        "median": 18000.0,
        "p90": 1036800.0,
    }


def test_first_call_resolution(week) -> None:
    # A: alice took it (ack) and resolved it -> yes
    # B: bob owned it from creation and resolved it (a hold is no hand-off) -> yes
    # C: reopened -> no;  D: escalated and reassigned erin -> frank -> no
    # F: gina took it and resolved it -> yes
    # 3 of 5 = 0.6
    assert week.first_call.model_dump() == {"resolved": 5, "first_call": 3, "share": 0.6}


def test_sla_compliance_per_priority(week) -> None:
    sla = {row.priority: row for row in week.sla}
    # P1: A ack 5m <= 15m met, resolved 1h <= 4h met;
    #     D ack 30m > 15m breached, resolved 5h > 4h breached
    assert (sla[Priority.P1].response.met, sla[Priority.P1].response.breached) == (1, 1)
    assert (sla[Priority.P1].resolution.met, sla[Priority.P1].resolution.breached) == (1, 1)
    assert sla[Priority.P1].response.share == 0.5
    # P2: B ack 20m met, resolved 2h counted <= 8h met;
    #     E unacknowledged: response due 03-09 20:30 and resolution due 03-10 04:00, both
    #     inside the window and passed -> breached
    assert (sla[Priority.P2].response.met, sla[Priority.P2].response.breached) == (1, 1)
    assert (sla[Priority.P2].resolution.met, sla[Priority.P2].resolution.breached) == (1, 1)
    # P3: C ack 1h <= 4h met, 7h <= 3d met; H cancelled unacknowledged -> no outcome;
    #     G decided before the window
    assert (sla[Priority.P3].response.met, sla[Priority.P3].response.breached) == (1, 0)
    assert (sla[Priority.P3].resolution.met, sla[Priority.P3].resolution.breached) == (1, 0)
    assert sla[Priority.P3].resolution.share == 1.0
    # P4: F's response was decided on 02-20 (outside); its resolution (12 d > 10 d) on 03-04
    assert (sla[Priority.P4].response.met, sla[Priority.P4].response.breached) == (0, 0)
    assert sla[Priority.P4].response.share is None
    assert (sla[Priority.P4].resolution.met, sla[Priority.P4].resolution.breached) == (0, 1)
    assert sla[Priority.P4].resolution.share == 0.0
    assert sla[Priority.P5].resolution.share is None


def test_counts_per_service_and_per_day(week) -> None:
    # created: api A, B, H = 3; db C, D = 2; web E = 1
    # resolved: api A, B = 2; db C, D = 2; web F = 1
    assert [(s.service, s.created, s.resolved) for s in week.per_service] == [
        ("api", 3, 2),
        ("db", 2, 2),
        ("web", 1, 1),
    ]
    # every UTC day the window touches, 03-03 .. 03-10
    days = {d.day: (d.created, d.resolved) for d in week.per_day}
    assert list(days) == [date(2026, 3, n) for n in range(3, 11)]
    assert days == {
        date(2026, 3, 3): (0, 0),
        date(2026, 3, 4): (0, 1),  # F resolved
        date(2026, 3, 5): (1, 1),  # C created and (finally) resolved
        date(2026, 3, 6): (1, 0),  # H created
        date(2026, 3, 7): (1, 1),  # D
        date(2026, 3, 8): (1, 1),  # B
        date(2026, 3, 9): (2, 1),  # A and E created, A resolved
        date(2026, 3, 10): (0, 0),
    }


def test_filter_by_team_and_service() -> None:
    incidents, timelines = build()
    data = compute_kpis(incidents, timelines, since=WEEK, now=NOW, services=SERVICES, team="data")
    # team data owns db only: C and D
    # MTTR: 25200, 18000 -> mean 21600, median 21600, p90 ceil(1.8) = 2 -> 25200
    assert (data.created, data.resolved) == (2, 2)
    assert (data.mttr.mean, data.mttr.median, data.mttr.p90) == (21600.0, 21600.0, 25200.0)
    web = compute_kpis(incidents, timelines, since=WEEK, now=NOW, service="web")
    # web: E created (open), F resolved (12 d), G outside
    assert (web.created, web.resolved, web.open_now, web.mttr.mean) == (1, 1, 1, 1036800.0)


def test_a_24h_window() -> None:
    incidents, timelines = build()
    day = compute_kpis(incidents, timelines, since=timedelta(hours=24), now=NOW)
    # [03-09 12:00, 03-10 12:00]: only E was created (20:00); A was created and resolved
    # before noon; E's response (due 20:30) and resolution (due 04:00) breached inside it
    assert (day.created, day.acknowledged, day.resolved) == (1, 0, 0)
    p2 = next(row for row in day.sla if row.priority == Priority.P2)
    assert (p2.response.breached, p2.resolution.breached) == (1, 1)
    assert day.mtta.count == 0 and day.mtta.mean is None


def test_business_calendar_counts_only_business_hours() -> None:
    incidents, timelines = build()
    policy = SlaPolicy(calendar=BusinessCalendar())  # Mon-Fri 09:00-17:00 UTC
    kpis = compute_kpis(incidents, timelines, since=WEEK, now=NOW, policy=policy, service="db")
    # C (Thu 03-05) 00:00 -> 09:00 with 03:00-05:00 paused: no business time before 09:00 = 0
    # D (Sat 03-07) is a weekend: 0
    assert kpis.mttr.mean == 0.0


def test_mtta_today_helper() -> None:
    incidents, _ = build()
    # acknowledged between 03-09 00:00 and NOW: A (300 s) only
    stats = mtta(incidents, NOW.replace(day=9, hour=0), NOW)
    assert (stats.count, stats.mean) == (1, 300.0)


def test_duration_stats_nearest_rank() -> None:
    values = [timedelta(seconds=s) for s in range(1, 11)]
    # 1..10: mean 5.5, median 5.5, p90 = 9th smallest = 9
    assert duration_stats(values).model_dump() == {
        "count": 10,
        "mean": 5.5,
        "median": 5.5,
        "p90": 9.0,
    }


def test_windows() -> None:
    assert parse_window("24h") == timedelta(hours=24)
    windows = [parse_window(w) for w in ("24h", "7d", "30d", "48h")] + [timedelta(minutes=90)]
    assert [format_window(w) for w in windows] == ["24h", "7d", "30d", "2d", "90m"]
    assert parse_window("7d") == timedelta(days=7)
    assert parse_window(" 30D ") == timedelta(days=30)
    for bad in ("", "7", "0d", "1w", "-3d", "7days"):
        with pytest.raises(ReportError, match="24h, 7d or 30d"):
            parse_window(bad)


def test_renderings_carry_the_numbers(week) -> None:
    table = render_table(week)
    assert "MTTA" in table and "28m45s" in table  # 1725 s
    assert "first-call resolution: 3/5 60.0%" in table
    assert "1/2 50.0%" in table
    assert format_seconds(218160) == "2d12h"
    assert '"mean": 1725.0' in render_json(week)
    assert "mttr,seconds,median,18000.0" in render_csv(week)
