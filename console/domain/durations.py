"""Every duration the product writes for a person, one style per purpose.

754 seconds, by purpose:

============  ===========  =====================================================================
style         754 s        purpose, where
============  ===========  =====================================================================
``countdown`` ``12:34``    An SLA clock's reading (time left, time used, a hand-off "in ..."):
                           mm:ss under an hour, ``1h05m`` under a day, ``2d03h`` beyond. Queue
                           and wall rows, the incident screen's SLA panel, schedules.
``digits``    ``12:34``    The same reading in the characters a big Digits font has: mm:ss,
                           then ``h:mm:ss`` (``3:05:12``). The wall's big countdowns.
``age``       ``12m``      How old something is, in a narrow column: one unit, rounded down
                           (``12m``, ``3h``, ``2d``). The queue's Age and Updated columns.
``elapsed``   ``12m34s``   A measured length of time in text: ``42s``, ``12m34s``, ``3h05m``,
                           ``2d04h``, ``18m00s`` (two units, the second zero-padded, so a
                           column of them lines up). Reports (MTTA,
                           MTTR), the review draft, timeline messages, the wall's connection and
                           update age, change events.
``span``      ``12m``      A configured length (an SLA target): exact, fewest characters,
                           zero units left out (``15m``, ``4h``, ``1h30m``, ``3d``). The
                           priority dialog, the incident screen, the review draft's targets.
``window``    ``754s``     A report window the way the command line takes it back
                           (``--since``): one unit, days only past one day (``24h``, ``7d``,
                           ``90m``). The reports screen and ``incidents report``.
============  ===========  =====================================================================

Negative input counts as zero except where a sign means something (``countdown`` and
``digits`` of a breached clock take the absolute value; their callers add the minus).
"""

from __future__ import annotations

from datetime import timedelta

Seconds = float | int | timedelta


def _whole(value: Seconds) -> int:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return max(0, int(value))


def countdown(seconds: Seconds) -> str:
    """``04:59`` (mm:ss) under an hour, ``1h05m`` under a day, ``2d03h`` beyond."""
    total = _whole(seconds)
    if total < 3600:
        return f"{total // 60:02d}:{total % 60:02d}"
    if total < 86400:
        return f"{total // 3600}h{(total % 3600) // 60:02d}m"
    return f"{total // 86400}d{(total % 86400) // 3600:02d}h"


def countdown_step(seconds: Seconds) -> int:
    """The whole seconds between readings of ``countdown`` at ``seconds``: 1 (``04:59``), 60
    (``1h05m``) or 3600 (``2d03h``). The reading changes only where the whole seconds cross a
    multiple of the step (the hour and the day are multiples of both smaller steps)."""
    total = _whole(seconds)
    if total < 3600:
        return 1
    if total < 86400:
        return 60
    return 3600


def digits(seconds: Seconds) -> str:
    """``12:34`` under an hour, ``3:05:12`` (hours:minutes:seconds) above."""
    total = _whole(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def age(seconds: Seconds) -> str:
    """``12m``, ``3h``, ``2d``: one unit, rounded down."""
    total = _whole(seconds)
    if total < 3600:
        return f"{total // 60}m"
    if total < 86400:
        return f"{total // 3600}h"
    return f"{total // 86400}d"


def age_step(seconds: Seconds) -> int:
    """The whole seconds between readings of ``age`` at ``seconds``: 60, 3600 or 86400 (the
    reading changes only where the whole seconds cross a multiple of the step)."""
    total = _whole(seconds)
    if total < 3600:
        return 60
    if total < 86400:
        return 3600
    return 86400


def elapsed(seconds: Seconds | None) -> str:
    """``42s``, ``12m05s``, ``18m00s``, ``3h05m``, ``2d04h``; ``-`` when there is no value."""
    if seconds is None:
        return "-"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    total = max(0, int(round(seconds)))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    if total < 86400:
        return f"{total // 3600}h{(total % 3600) // 60:02d}m"
    return f"{total // 86400}d{(total % 86400) // 3600:02d}h"


def span(seconds: Seconds) -> str:
    """``15m``, ``4h``, ``3d``, ``1h30m``: a configured length in the fewest characters."""
    minutes = _whole(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"


def window(seconds: Seconds) -> str:
    """``7d``, ``24h``, ``90m`` or ``45s``: one unit, as ``--since`` takes it back."""
    total = _whole(seconds)
    if total > 86400 and total % 86400 == 0:
        return f"{total // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if total and total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
