"""The delivery log's records: one outgoing webhook message to one receiver.

The notifier (``console.services.notifier``) writes them through a backend's ``DeliveryLog``
capability (``backends.capabilities``); admins read them with ``GET /v1/deliveries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

DeliveryStatus = Literal["queued", "retrying", "delivered", "failed", "dropped"]


class Delivery(BaseModel):
    """One message to one receiver, as the delivery log shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    created_at: datetime
    updated_at: datetime
    target: str
    url: str
    """Scheme and host only: the path of a webhook URL is often its secret."""
    event: str
    incident_key: str
    status: DeliveryStatus
    attempts: int = 0
    response_code: int | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A row about to be logged (its id comes from the store)."""

    at: datetime
    target: str
    url: str
    event: str
    incident_key: str
    status: DeliveryStatus
    error: str = ""
