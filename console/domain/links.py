"""The link ``l`` opens: an incident's first web link (runbook, alert source), pure.

Alerts bring their links as ``LinkKind.URL`` links (``runbook_url``, ``generatorURL``); an
incident typed by hand or mapped from a description may carry one only in its text, so the
first http(s) URL of the description is the fallback. Nothing here opens anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from console.domain.models import Incident, LinkKind
from console.domain.text import clean

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


@dataclass(frozen=True, slots=True)
class WebLink:
    url: str
    title: str
    """What it is (``runbook``, ``source``, or ``description`` for one found in the text)."""


def first_link(incident: Incident) -> WebLink | None:
    """The incident's first web link: its URL links in order, then the description's first
    http(s) URL; ``None`` when it has none."""
    for link in incident.links:
        if link.kind == LinkKind.URL and link.ref.lower().startswith(("http://", "https://")):
            return WebLink(clean(link.ref), clean(link.title, limit=60) or "link")
    found = _URL.search(incident.description or "")
    if found is None:
        return None
    url = clean(found.group(0)).rstrip(_TRAILING)
    before = (incident.description or "")[: found.start()].split()
    # "Runbook: https://..." names the link; a bare URL is just "the description's"
    title = before[-1][:-1].lower() if before and before[-1].endswith(":") else "description"
    return WebLink(url, clean(title, limit=60) or "description")


def over_ssh(environ: Mapping[str, str]) -> bool:
    """Whether the console runs in an SSH session (a browser would open on the far host)."""
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))
