"""``console.http.log_limits``: one message at most ``repeats`` times per window."""

from __future__ import annotations

import io
import logging

from console.http.log_limits import RepeatFilter


def _logger(limiter: RepeatFilter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(limiter)
    logger = logging.getLogger(f"test.log_limits.{id(limiter)}")
    logger.propagate = False
    logger.addHandler(handler)
    return logger, out


def test_a_flood_of_one_message_is_cut_and_counted() -> None:
    now = [0.0]
    limiter = RepeatFilter(repeats=3, window=10.0, clock=lambda: now[0])
    logger, out = _logger(limiter)
    for n in range(1000):
        logger.error("accept failed on fd %d", n)  # same message, other arguments
    logger.error("something else")
    assert out.getvalue().splitlines() == [
        "accept failed on fd 0",
        "accept failed on fd 1",
        "accept failed on fd 2",
        "something else",
    ]
    now[0] = 10.0
    logger.error("accept failed on fd %d", 1000)
    assert out.getvalue().splitlines()[-1] == (
        "accept failed on fd 1000 [and 997 more like this in the 10 s before, not logged]"
    )
    logger.error("accept failed on fd %d", 1001)
    assert out.getvalue().splitlines()[-1] == "accept failed on fd 1001"


def test_tracebacks_of_dropped_records_are_not_written() -> None:
    limiter = RepeatFilter(repeats=1, window=60.0, clock=lambda: 0.0)
    logger, out = _logger(limiter)
    for _ in range(50):
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            logger.exception("socket.accept() out of system resource")
    assert out.getvalue().count("Traceback") == 1
