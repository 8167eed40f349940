"""The delivery log's records: one outgoing webhook message to one receiver.

The notifier (``console.services.notifier``) writes them through a backend's ``DeliveryLog``
capability (``backends.capabilities``); admins read them with ``GET /v1/deliveries``.

The log is also the notifier's outbox. A message is logged, with its body and its
idempotency key, before it is first sent; it stays ``queued`` or ``retrying`` until a
receiver confirmed it (or it was given up). So a message in flight when its server dies is
not lost: whoever runs the notifier next (a restarted server, or another replica that took
the lead) sends every unconfirmed one again. That is at-least-once delivery: the receiver
may have got the first copy and the answer been lost with the server, so each copy carries
the same ``Idempotency-Key`` header and a receiver that remembers keys sees each message
once. The key is derived from what the message is about (``idempotency_key``), so two
servers that logged the same message, say while both believed they led for a moment, give
it the same key, and the log keeps one row per key.
"""

from __future__ import annotations

import hashlib
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
    key: str = ""
    """The ``Idempotency-Key`` every copy of this message carries (empty on rows logged
    before the log kept keys)."""


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
    key: str = ""
    """``idempotency_key(...)``; the log keeps one row per non-empty key."""
    body: str = ""
    """The JSON body, kept until the message is confirmed so another server can resend it."""


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A logged message no receiver has confirmed yet (``queued`` or ``retrying``)."""

    id: int
    target: str
    event: str
    incident_key: str
    key: str
    body: str
    """The JSON body as first logged; empty on rows logged before the log kept bodies."""
    attempts: int


def idempotency_key(
    target: str, event: str, incident_id: int, version: int, entry_id: int | None
) -> str:
    """The key of the message about timeline entry ``entry_id`` (written at incident
    ``version``) of incident ``incident_id`` as ``event``, to the receiver named ``target``:
    the same wherever and however often it is computed, different for any other message."""
    raw = "\x1f".join((target, event, str(incident_id), str(version), str(entry_id)))
    return "ic-" + hashlib.sha256(raw.encode()).hexdigest()[:32]
