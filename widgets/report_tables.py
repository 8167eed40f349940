"""KPI tables for the reports screen: Rich renderables built from a ``Kpis`` (pure).

The screen shows them in ``Static`` widgets it updates in place; the same formatting helpers
as ``incidents report`` (``console.domain.kpis``) keep the screen and the CLI saying the same.
"""

from __future__ import annotations

from rich.text import Text

from console.domain.kpis import (
    Kpis,
    SlaOutcome,
    format_share,
    summary_rows,
)
from console.domain.text import clean

Cell = str | Text


def _table(title: str, header: tuple[str, ...], rows: list[tuple[Cell, ...]]) -> Text:
    """Aligned columns as one ``Text`` (first column left, the rest right), spans kept.

    Plain text rather than a Rich ``Table``: it renders the same in every width and theme.
    """
    cells = [tuple(Text(c) if isinstance(c, str) else c for c in row) for row in rows]
    head = tuple(Text(h, style="bold") for h in header)
    widths = [max(row[n].cell_len for row in [head, *cells]) for n in range(len(header))]
    out = Text(title, style="bold")
    for row in [head, *cells]:
        out.append("\n")
        for n, cell in enumerate(row):
            pad = " " * (widths[n] - cell.cell_len)
            if n == 0:
                out.append_text(cell)
                out.append(pad)
            else:
                out.append("  " + pad)
                out.append_text(cell)
    return out


def totals_text(kpis: Kpis) -> Text:
    """Two lines: what happened in the window; what is open now (and breached: the queue
    header's definition) with the first-call share."""
    text = Text()
    for label, value in (
        ("created", kpis.created),
        ("acknowledged", kpis.acknowledged),
        ("resolved", kpis.resolved),
        ("reopened", kpis.reopened),
        ("\n", None),
        ("open now", kpis.open_now),
        ("breached now", kpis.open_breached),
    ):
        if value is None:
            text.append(label)
            continue
        text.append(f"{value} ", style="bold")
        text.append(f"{label}   ")
    fc = kpis.first_call
    text.append("first-call resolution ")
    text.append(f"{format_share(fc.share)} ", style="bold")
    text.append(f"({fc.first_call}/{fc.resolved})")
    return text


def times_table(kpis: Kpis) -> Text:
    return _table(
        "Response and resolution",
        ("", "count", "mean", "median", "p90"),
        [tuple(row) for row in summary_rows(kpis)],
    )


def _cell(outcome: SlaOutcome) -> Text:
    decided = outcome.met + outcome.breached
    if not decided:
        return Text("-", style="dim")
    text = Text(f"{format_share(outcome.share)} ")
    text.append(f"({outcome.met}/{decided})", style="dim")
    if outcome.breached:
        text.stylize("bold")
    return text


def sla_table(kpis: Kpis) -> Text:
    return _table(
        "SLA compliance",
        ("", "response met", "resolution met"),
        [(row.priority.value, _cell(row.response), _cell(row.resolution)) for row in kpis.sla],
    )


def service_table(kpis: Kpis, limit: int = 12) -> Text:
    rows: list[tuple[Cell, ...]] = [
        (clean(row.service, limit=24), str(row.created), str(row.resolved))
        for row in kpis.per_service[:limit]
    ]
    hidden = len(kpis.per_service) - limit
    if hidden > 0:
        rows.append((Text(f"+{hidden} more", style="dim"), "", ""))
    if not kpis.per_service:
        rows.append((Text("no incidents", style="dim"), "", ""))
    return _table("Per service", ("service", "created", "resolved"), rows)


def window_text(kpis: Kpis) -> str:
    scope = []
    if kpis.service:
        scope.append(f"service {clean(kpis.service)}")
    if kpis.team:
        scope.append(f"team {clean(kpis.team)}")
    text = f"last {kpis.since}: {kpis.start:%Y-%m-%d %H:%M} to {kpis.end:%Y-%m-%d %H:%M} UTC"
    return text + (f" · {', '.join(scope)}" if scope else "")


def day_caption(kpis: Kpis, kind: str) -> str:
    values = [getattr(d, kind) for d in kpis.per_day]
    if not values:
        return kind
    first, last = kpis.per_day[0].day, kpis.per_day[-1].day
    return (
        f"{kind} per day  {first:%m-%d}..{last:%m-%d}  "
        f"total {sum(values)}, max {max(values)}, mean {sum(values) / len(values):.1f}"
    )
