"""Review drafts: fetch what a draft needs through the backend contract and render it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backends import capabilities
from console.domain.changes import (
    GRACE,
    Candidate,
    candidates,
    dependency_map,
    related_services,
)
from console.domain.config import ChangeSettings
from console.domain.models import Incident, Service
from console.domain.review import render_pir
from console.domain.sla import SlaPolicy

DEFAULT_WINDOW = ChangeSettings().window


def default_path(incident: Incident, directory: Path | None = None) -> Path:
    """Where the incident screen writes a draft: ``INC-1042-review.md`` in ``directory``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", incident.key)
    return (directory or Path.cwd()) / f"{safe}-review.md"


async def change_candidates(
    backend: Any, incident: Incident, services: list[Service], window: timedelta
) -> list[Candidate] | None:
    """The changes before ``incident`` on its service and what it depends on, newest first;
    ``None`` when the backend keeps no change events."""
    log = capabilities.changes(backend)
    if log is None:
        return None
    dependencies = dependency_map(services)
    scope = sorted(related_services(incident.service, dependencies))
    found = await log.change_events(
        services=scope,
        since=incident.created_at - window,
        until=incident.created_at + GRACE,
    )
    return candidates(
        incident.service, incident.created_at, found, dependencies=dependencies, window=window
    )


async def draft_for(
    backend: Any,
    ref: int | str,
    *,
    policy: SlaPolicy,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> str:
    """Fetch what a draft needs from ``backend`` and render it."""
    incident = await backend.get_incident(ref)
    timeline = await backend.timeline(incident.id)
    services = await backend.services()
    users = await backend.users()
    changes = await change_candidates(backend, incident, services, window)
    return render_pir(
        incident,
        timeline,
        services=services,
        users=users,
        sla_policy=policy,
        now=now,
        changes=changes,
        change_window=window,
    )


async def write_pir(
    backend: Any, ref: int | str, path: Path, *, policy: SlaPolicy, now: datetime
) -> Path:
    """Write the draft for ``ref`` to ``path`` and return the path written."""
    text = await draft_for(backend, ref, policy=policy, now=now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
