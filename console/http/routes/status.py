"""The public status page: ``/status`` (HTML) and ``/status.json``, no token needed.

Both render ``console.domain.status_page.StatusPage`` and nothing else: that model holds only
whitelisted public fields, so nothing internal can reach these routes. The HTML needs no
script (it refreshes itself with a meta tag), loads nothing from elsewhere, and escapes every
piece of text it prints.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from console.domain.status_page import PublicIncident, ServiceState, StatusPage
from console.http.deps import Instant

router = APIRouter(tags=["status"])

REFRESH_SECONDS = 60
_HEADERS = {
    "Cache-Control": "public, max-age=15",
    # Nothing on the page runs or loads from elsewhere; say so to the browser too.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


async def _page(request: Request, now: datetime | None) -> StatusPage:
    backend: Any = request.app.state.backend
    page: StatusPage = await backend.status_page(now)
    return page


@router.get("/status.json", response_model=StatusPage)
async def status_json(request: Request, now: Instant | None = None) -> Response:
    page = await _page(request, now)
    return Response(page.model_dump_json(), media_type="application/json", headers=_HEADERS)


@router.get("/status", response_class=HTMLResponse)
async def status_html(request: Request, now: Instant | None = None) -> HTMLResponse:
    return HTMLResponse(render_status_html(await _page(request, now)), headers=_HEADERS)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
.banner{padding:1rem;border-radius:.4rem;font-weight:600;font-size:1.1rem}
.operational{background:#e3f5e8;color:#0b5d1e}.degraded{background:#fff4d6;color:#7a5200}
.outage{background:#fde2e1;color:#8c1c13}
table{border-collapse:collapse;width:100%}td{padding:.4rem;border-bottom:1px solid #ddd}
.state{text-align:right;font-weight:600}
article{border:1px solid #ddd;border-radius:.4rem;padding:.6rem 1rem;margin:.8rem 0}
article h3{margin:.2rem 0;font-size:1.05rem}.meta{color:#555;font-size:.9rem}
ol.updates{padding-left:1.2rem}ol.updates li{margin:.4rem 0;white-space:pre-wrap}
ul.history{list-style:none;padding:0}ul.history li{padding:.2rem 0;border-bottom:1px solid #eee}
time{color:#555}
"""

_BANNER = {
    ServiceState.OPERATIONAL: "All systems operational",
    ServiceState.DEGRADED: "Some systems are degraded",
    ServiceState.OUTAGE: "Outage in progress",
}


def _time(at: datetime | None) -> str:
    if at is None:
        return ""
    return f'<time datetime="{escape(at.isoformat())}">{escape(at.strftime("%Y-%m-%d %H:%M UTC"))}</time>'


def _incident(incident: PublicIncident) -> str:
    state = {"open": "Ongoing", "resolved": "Resolved", "cancelled": "Withdrawn"}[incident.state]
    ended = f", ended {_time(incident.ended_at)}" if incident.ended_at else ""
    updates = "".join(
        f"<li>{_time(update.at)}: {escape(update.message)}</li>" for update in incident.updates
    )
    return (
        f'<article id="{escape(incident.key)}" class="incident">'
        f"<h3>{escape(incident.title)}</h3>"
        f'<p class="meta">{escape(incident.key)} · {escape(incident.service)} · '
        f'<span class="{escape(incident.impact.value)}">{escape(state)}, '
        f"{escape(incident.impact.label.lower())}</span> · started {_time(incident.started_at)}"
        f"{ended}</p>"
        f'<ol class="updates">{updates}</ol></article>'
    )


def render_status_html(page: StatusPage) -> str:
    """The page as one HTML document; every piece of text goes through ``html.escape``."""
    services = "".join(
        f"<tr><td>{escape(service.name)}</td>"
        f'<td class="state {escape(service.state.value)}">{escape(service.state.label)}</td></tr>'
        for service in page.services
    )
    current = "".join(_incident(incident) for incident in page.open) or (
        "<p>No ongoing incidents.</p>"
    )
    recent = "".join(_incident(incident) for incident in page.recent) or (
        "<p>No incidents in the last 30 days.</p>"
    )
    history = "".join(
        f"<li><strong>{escape(day.day.isoformat())}</strong>: "
        + (escape(", ".join(day.incidents)) if day.incidents else "no incidents reported")
        + "</li>"
        for day in page.history
    )
    return (
        "<!DOCTYPE html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        f"<title>Service status</title><style>{_CSS}</style></head><body>"
        "<h1>Service status</h1>"
        f'<p class="banner {escape(page.state.value)}" id="overall">'
        f"{escape(_BANNER[page.state])}</p>"
        f'<p class="meta">Updated {_time(page.generated_at)}</p>'
        f'<h2>Services</h2><table id="services">{services}</table>'
        f'<h2>Ongoing incidents</h2><section id="open">{current}</section>'
        f'<h2>Past incidents</h2><section id="recent">{recent}</section>'
        f'<h2>Last 30 days</h2><ul class="history" id="history">{history}</ul>'
        "</body></html>"
    )
