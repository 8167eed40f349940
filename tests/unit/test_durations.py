"""One duration formatter, one style per purpose (``console.domain.durations``)."""

from __future__ import annotations

from datetime import timedelta

from console.domain import durations


def test_754_seconds_in_each_style() -> None:
    assert durations.countdown(754) == "12:34"
    assert durations.digits(754) == "12:34"
    assert durations.age(754) == "12m"
    assert durations.elapsed(754) == "12m34s"
    assert durations.span(754) == "12m"
    assert durations.window(754) == "754s"


def test_countdown_and_digits_past_an_hour_and_a_day() -> None:
    assert durations.countdown(3600 + 5 * 60) == "1h05m"
    assert durations.countdown(2 * 86400 + 3 * 3600) == "2d03h"
    assert durations.digits(3 * 3600 + 5 * 60 + 12) == "3:05:12"
    assert durations.countdown(-5) == durations.digits(-5) == "00:00"


def test_age_is_one_unit_rounded_down() -> None:
    assert [durations.age(s) for s in (59, 3599, 3600, 86399, 2 * 86400 + 1)] == [
        "0m",
        "59m",
        "1h",
        "23h",
        "2d",
    ]


def test_elapsed_has_two_units_and_a_dash_for_nothing() -> None:
    assert durations.elapsed(None) == "-"
    assert durations.elapsed(42) == "42s"
    assert durations.elapsed(timedelta(minutes=12, seconds=5)) == "12m05s"
    assert durations.elapsed(3 * 3600 + 5 * 60 + 59) == "3h05m"
    assert durations.elapsed(218160) == "2d12h"
    assert [durations.elapsed(s) for s in (18 * 60, 3600, 2 * 86400)] == [
        "18m00s",
        "1h00m",
        "2d00h",
    ]


def test_sla_targets_in_few_characters() -> None:
    assert durations.span(15 * 60) == "15m"
    assert durations.span(timedelta(hours=4)) == "4h"
    assert durations.span(3 * 86400) == "3d"
    assert durations.span(90 * 60) == "1h30m"
    assert durations.span(0) == "0m"


def test_windows_read_back_as_typed() -> None:
    assert [durations.window(timedelta(hours=h)) for h in (24, 168, 48, 1.5)] == [
        "24h",
        "7d",
        "2d",
        "90m",
    ]
    assert durations.window(45) == "45s"


def test_readings_change_only_at_their_steps() -> None:
    """``countdown_step``/``age_step`` say where a reading can change: never inside a step,
    always at its start (so a countdown that relies on them repaints neither early nor late)."""
    pairs = ((durations.countdown, durations.countdown_step), (durations.age, durations.age_step))
    for reading, step_of in pairs:
        for seconds in [*range(0, 4000), *range(86000, 87000), *range(3500, 200000, 97)]:
            step = step_of(seconds)
            start = seconds // step * step
            assert reading(seconds) == reading(start), (reading.__name__, seconds)
            if start:
                assert reading(start - 1) != reading(start), (reading.__name__, start)
