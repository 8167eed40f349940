"""Business-hours calendars: weekdays, hours, timezones with daylight saving, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from console.domain.models import Incident, Pause, Priority
from console.domain.sla import (
    BusinessCalendar,
    SlaPolicy,
    SlaState,
    Target,
    counted,
    due_time,
    sla_clock,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)
CAL = BusinessCalendar(timezone="Europe/Berlin")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_friday_afternoon_one_hour_is_due_monday_morning() -> None:
    """Opened Friday 16:30 with a 1h business target: due Monday 09:30 local.

    The weekend in between is the start of daylight saving time (29 March 2026), so the
    local deadline is 07:30 UTC, not 08:30.
    """
    start = local(BERLIN, 2026, 3, 27, 16, 30)
    due = due_time(start, H, calendar=CAL)
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 9, 30)
    assert due == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)
    assert counted(start, due, calendar=CAL) == H


def test_end_of_daylight_saving_keeps_local_hours() -> None:
    start = local(BERLIN, 2026, 10, 23, 16, 0)  # Friday; clocks go back on Sunday 25 October
    due = due_time(start, 2 * H, calendar=CAL)
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 10, 26, 10, 0)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_other_timezones_and_hours() -> None:
    cal = BusinessCalendar(timezone="America/New_York", start=time(8), end=time(18, 30))
    start = local(NEW_YORK, 2026, 3, 2, 18, 0)  # Monday evening
    due = due_time(start, 2 * H, calendar=cal)
    assert due.astimezone(NEW_YORK) == local(NEW_YORK, 2026, 3, 3, 9, 30)


def test_weekends_and_holidays_do_not_count() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", holidays=(date(2026, 12, 25),))
    start = local(BERLIN, 2026, 12, 24, 16, 30)  # Thursday; Friday is a holiday
    due = due_time(start, H, calendar=cal)
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 12, 28, 9, 30)
    weekend = counted(
        local(BERLIN, 2026, 12, 25, 0, 0), local(BERLIN, 2026, 12, 28, 0, 0), calendar=cal
    )
    assert weekend == timedelta(0)


def test_custom_weekdays() -> None:
    cal = BusinessCalendar(weekdays=(5, 6))  # weekend support desk, UTC
    saturday = datetime(2026, 3, 7, 9, tzinfo=UTC)
    assert counted(datetime(2026, 3, 2, tzinfo=UTC), saturday, calendar=cal) == timedelta(0)
    assert counted(saturday, saturday + 3 * H, calendar=cal) == 3 * H
    friday = datetime(2026, 3, 6, 12, tzinfo=UTC)
    assert due_time(friday, 9 * H, calendar=cal) == datetime(2026, 3, 8, 10, tzinfo=UTC)


def test_counted_only_inside_business_hours() -> None:
    monday = local(BERLIN, 2026, 3, 2, 0, 0)
    assert counted(monday, monday + timedelta(days=1), calendar=CAL) == 8 * H
    assert counted(monday, monday + timedelta(days=7), calendar=CAL) == 40 * H
    evening = local(BERLIN, 2026, 3, 2, 17, 0)
    assert counted(evening, evening + 15 * H, calendar=CAL) == 0 * H


def test_a_start_before_opening_waits_for_the_morning() -> None:
    early = local(BERLIN, 2026, 3, 2, 6, 0)
    assert due_time(early, 15 * M, calendar=CAL).astimezone(BERLIN) == local(
        BERLIN, 2026, 3, 2, 9, 15
    )


def test_pauses_and_calendar_together() -> None:
    start = local(BERLIN, 2026, 3, 2, 9, 0)
    pause = Pause(start=local(BERLIN, 2026, 3, 2, 10, 0), end=local(BERLIN, 2026, 3, 3, 11, 0))
    assert counted(start, local(BERLIN, 2026, 3, 3, 12, 0), (pause,), CAL) == 2 * H
    due = due_time(start, 3 * H, (pause,), CAL)
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 3, 3, 13, 0)


def test_sla_clock_on_a_calendar() -> None:
    policy = SlaPolicy(targets={Priority.P3: Target(response=H, resolution=8 * H)}, calendar=CAL)
    opened = local(BERLIN, 2026, 3, 27, 16, 30)
    item = Incident(
        id=1, key="INC-1", title="t", service="web", created_at=opened, updated_at=opened
    )
    saturday = local(BERLIN, 2026, 3, 28, 12, 0)
    clock = sla_clock(item, saturday, policy, "response")
    assert clock.used == 30 * M
    assert clock.state == SlaState.RUNNING
    assert clock.due is not None
    assert clock.due.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 9, 30)
    monday = local(BERLIN, 2026, 3, 30, 9, 20)
    assert sla_clock(item, monday, policy, "response").state == SlaState.WARNING
    late = local(BERLIN, 2026, 3, 30, 9, 31)
    assert sla_clock(item, late, policy, "response").state == SlaState.BREACHED


def test_windows_are_in_utc_and_skip_non_working_days() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin", holidays=(date(2026, 3, 3),))
    windows = cal.windows(local(BERLIN, 2026, 3, 2, 12, 0))
    first, second = next(windows), next(windows)
    assert first == (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 16, tzinfo=UTC))
    assert second[0].astimezone(BERLIN).date() == date(2026, 3, 4)


def test_calendar_validation() -> None:
    with pytest.raises(ValidationError, match="unknown timezone"):
        BusinessCalendar(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="weekdays"):
        BusinessCalendar(weekdays=(7,))
    with pytest.raises(ValidationError, match="weekdays"):
        BusinessCalendar(weekdays=())
    with pytest.raises(ValidationError, match="end after it starts"):
        BusinessCalendar(start=time(17), end=time(9))
    assert BusinessCalendar(weekdays=(4, 0, 0)).weekdays == (0, 4)


def test_calendar_from_config_forms() -> None:
    cal = BusinessCalendar.model_validate(
        {"start": "08:30", "end": time(16, 0), "holidays": ["2026-12-25", date(2026, 12, 26)]}
    )
    assert cal.start == time(8, 30)
    assert cal.holidays == (date(2026, 12, 25), date(2026, 12, 26))
