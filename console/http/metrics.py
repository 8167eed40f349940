"""Request counters and latency histograms in the Prometheus text format (version 0.0.4).

A few dozen lines instead of a dependency: the server needs two metric types, labelled by
route template (``/v1/incidents/{ref}``, never the raw path, so label cardinality stays
bounded) and status code. Everything runs on the server's event loop, so no locks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Latency buckets in seconds: fine below 100 ms, where loopback requests live."""


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels_text(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{escape_label(str(value))}"' for name, value in labels.items())
    return "{" + inner + "}"


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class RequestMetrics:
    """Counts and latencies of HTTP requests by method, route and status."""

    def __init__(self, buckets: Iterable[float] = BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self.counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self.bucket_counts: dict[tuple[str, str, str], list[int]] = {}
        self.sums: dict[tuple[str, str, str], float] = defaultdict(float)
        self.observed: dict[tuple[str, str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.counts[(method, route, str(status))] += 1
        key = (method, route, str(status))
        counts = self.bucket_counts.get(key)
        if counts is None:
            counts = self.bucket_counts[key] = [0] * len(self.buckets)
        for index, bound in enumerate(self.buckets):
            if seconds <= bound:
                counts[index] += 1
        self.sums[key] += seconds
        self.observed[key] += 1

    def render(self) -> list[str]:
        lines = [
            "# HELP incidents_http_requests_total HTTP requests by method, route and status.",
            "# TYPE incidents_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.counts.items()):
            labels = labels_text({"method": method, "route": route, "status": status})
            lines.append(f"incidents_http_requests_total{labels} {count}")
        lines += [
            "# HELP incidents_http_request_duration_seconds Time to the response's first byte.",
            "# TYPE incidents_http_request_duration_seconds histogram",
        ]
        for (method, route, status), counts in sorted(self.bucket_counts.items()):
            base = {"method": method, "route": route, "status": status}
            for bound, count in zip(self.buckets, counts, strict=True):
                labels = labels_text({**base, "le": format_value(bound)})
                lines.append(f"incidents_http_request_duration_seconds_bucket{labels} {count}")
            total = self.observed[(method, route, status)]
            labels = labels_text({**base, "le": "+Inf"})
            lines.append(f"incidents_http_request_duration_seconds_bucket{labels} {total}")
            lines.append(
                f"incidents_http_request_duration_seconds_sum{labels_text(base)} "
                f"{format_value(self.sums[(method, route, status)])}"
            )
            lines.append(
                f"incidents_http_request_duration_seconds_count{labels_text(base)} {total}"
            )
        return lines


def gauge(
    name: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]
) -> list[str]:
    """A gauge family: ``# HELP``, ``# TYPE`` and one line per labelled sample."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        lines.append(f"{name}{labels_text(labels)} {format_value(value)}")
    return lines
