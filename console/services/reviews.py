"""Review drafts: fetch what a draft needs through the backend contract and render it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.domain.models import Incident
from console.domain.review import render_pir
from console.domain.sla import SlaPolicy

if TYPE_CHECKING:

    pass


def default_path(incident: Incident, directory: Path | None = None) -> Path:
    """Where the incident screen writes a draft: ``INC-1042-review.md`` in ``directory``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", incident.key)
    return (directory or Path.cwd()) / f"{safe}-review.md"


async def draft_for(backend: Any, ref: int | str, *, policy: SlaPolicy, now: datetime) -> str:
    """Fetch what a draft needs from ``backend`` and render it."""
    incident = await backend.get_incident(ref)
    timeline = await backend.timeline(incident.id)
    services = await backend.services()
    users = await backend.users()
    return render_pir(
        incident, timeline, services=services, users=users, sla_policy=policy, now=now
    )


async def write_pir(
    backend: Any, ref: int | str, path: Path, *, policy: SlaPolicy, now: datetime
) -> Path:
    """Write the draft for ``ref`` to ``path`` and return the path written."""
    text = await draft_for(backend, ref, policy=policy, now=now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
