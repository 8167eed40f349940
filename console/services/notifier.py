"""Outgoing ChatOps webhooks: new incidents, escalations, breaches and resolutions, posted
to Slack-compatible incoming webhooks or as generic JSON.

How it stays out of the way of intake and triage:

- It follows the store's change feed (``watch()``) in a background task; nothing on the
  intake or triage path waits for it.
- Each receiver has its own bounded queue and its own worker, so a slow or failing receiver
  only delays its own messages. When its queue is full, new messages for it are dropped and
  logged as ``dropped``, never waited for.
- Every attempt has a timeout; failures (connection errors, timeouts, 5xx, 408, 429) are
  retried with exponential backoff (``backoff``, twice as long each time, at most 5 min)
  up to ``attempts`` times; other 4xx answers fail at once (retrying cannot fix them).
- Every message has a row in the store's delivery log (the ``DeliveryLog`` capability,
  ``backends/common/deliveries.py``): queued, retrying, delivered, failed or dropped, with
  attempts, the last HTTP status and error. Admins read it with ``GET /v1/deliveries``.
  Only the receiver's name, scheme and host are stored, since webhook URLs often carry
  their secret in the path.

How no message is lost when the server dies (kill -9, a lost host, a lost lead):

- The log is the outbox. A message is logged with its body and idempotency key before it
  is first sent, in the transaction that also moves the notifier's place in the change
  feed past the change that called for it; it stays queued or retrying until the receiver
  answers 2xx.
- Whoever runs the notifier next (the restarted server, or the replica that took the lead)
  first sends every unconfirmed message again (``pending()``), then follows the feed from
  the kept place. Delivery is therefore at least once: a receiver may already have the
  copy whose answer died with the server. Every copy carries the same ``Idempotency-Key``
  header (``console.domain.deliveries.idempotency_key``: the receiver's name, the event,
  the incident and the timeline entry), so a receiver that remembers keys acts once; and
  two notifiers that briefly both lead log one row per key, so only one of them sends it.
  Receivers are told apart by name (``name``, else the host), made unique per server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from backends import capabilities
from backends.base import Backend, BackendError
from backends.capabilities import DeliveryLog
from console.domain.clock import Clock, SystemClock
from console.domain.config import NotifySettings, WebhookTarget
from console.domain.deliveries import (
    Delivery,
    DeliveryStatus,
    NewDelivery,
    PendingDelivery,
    idempotency_key,
)
from console.domain.models import Change, EntryKind, Incident, Priority, TimelineEntry, User
from console.domain.text import clean

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("incidents.notify")

EventName = Literal[
    "incident.created", "incident.escalated", "incident.breached", "incident.resolved"
]

_EVENTS: dict[EntryKind, EventName] = {
    EntryKind.CREATED: "incident.created",
    EntryKind.ESCALATED: "incident.escalated",
    EntryKind.SLA_BREACHED: "incident.breached",
    EntryKind.RESOLVED: "incident.resolved",
    EntryKind.MERGED: "incident.resolved",
}
_VERBS = {
    "incident.created": "new incident",
    "incident.escalated": "escalated",
    "incident.breached": "SLA breached",
    "incident.resolved": "resolved",
}
MAX_BACKOFF = 300.0
RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Message:
    """Something worth telling a channel about."""

    event: EventName
    incident: Incident
    entry: TimelineEntry
    paged: tuple[User, ...] = ()
    """The people the entry pages (an escalation), with the contact methods the directory
    holds for them: the JSON body carries them so a paging gateway can reach each person."""


def events_for(incident: Incident, entries: Sequence[TimelineEntry]) -> list[Message]:
    """The notifiable events among the entries of one change."""
    return [
        Message(_EVENTS[entry.kind], incident, entry) for entry in entries if entry.kind in _EVENTS
    ]


def wants(target: WebhookTarget, message: Message) -> bool:
    """Does ``target`` take this event at this priority?"""
    limit = Priority(target.min_priority).rank
    return message.event in target.events and message.incident.priority.rank <= limit


def target_name(target: WebhookTarget) -> str:
    return target.name or urlsplit(target.url).hostname or target.url


def unique_names(targets: Sequence[WebhookTarget]) -> list[str]:
    """Each receiver's name in the log, made unique (``chat``, ``chat (2)``): the outbox finds
    a message's receiver again by it, and it is part of the message's idempotency key."""
    seen: dict[str, int] = {}
    names = []
    for target in targets:
        name = target_name(target)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _slack_escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as control characters (links, mentions);
    untrusted text must not create either."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(message: Message) -> str:
    incident = message.incident
    title = clean(incident.title, limit=200)
    return f"[{incident.priority}] {incident.key} {_VERBS[message.event]}: {title} ({incident.service})"


def slack_body(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (notifications, fallbacks) and ``blocks``."""
    incident = message.incident
    text = _slack_escape(headline(message))
    detail = _slack_escape(clean(message.entry.message, limit=500))
    facts = [
        f"*Priority* {incident.priority}",
        f"*Status* {incident.status.label}",
        f"*Service* {_slack_escape(clean(incident.service))}",
        f"*Level* {incident.escalation_level}",
    ]
    if incident.assignee:
        facts.append(f"*Owner* {_slack_escape(clean(incident.assignee))}")
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": detail}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(facts)}]},
        ],
    }


def json_body(message: Message) -> dict[str, Any]:
    """A generic JSON body: the event, the incident's main fields and the timeline entry."""
    incident = message.incident
    entry = message.entry
    return {
        "event": message.event,
        "text": headline(message),
        "incident": {
            "id": incident.id,
            "key": incident.key,
            "title": clean(incident.title),
            "service": incident.service,
            "priority": incident.priority.value,
            "status": incident.status.value,
            "assignee": incident.assignee,
            "escalation_level": incident.escalation_level,
            "created_at": incident.created_at.isoformat(),
            "labels": incident.labels,
        },
        "entry": {
            "kind": entry.kind.value,
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "message": clean(entry.message),
            "data": entry.data,
        },
        "paged": [
            {
                "handle": user.id,
                "name": user.name,
                "email": user.email,
                "contacts": [{"kind": c.kind.value, "to": c.to} for c in user.contacts],
            }
            for user in message.paged
        ],
    }


def body_for(target: WebhookTarget, message: Message) -> dict[str, Any]:
    return slack_body(message) if target.format == "slack" else json_body(message)


def backoff_delay(settings: NotifySettings, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return float(min(MAX_BACKOFF, settings.backoff * 2 ** (attempt - 1)))


# --- the delivery log ------------------------------------------------------------------------


def delivery_log(store: Backend) -> DeliveryLog:
    """The store's delivery log; a backend without one cannot run the notifier."""
    log_ = capabilities.deliveries(store)
    if log_ is None:
        raise BackendError(
            f"{store.description} keeps no delivery log; webhooks are sent by the server "
            "that owns the store"
        )
    return log_


async def deliveries(store: Backend, limit: int = 100) -> list[Delivery]:
    """The newest deliveries first."""
    return await delivery_log(store).recent(limit)


@dataclass(slots=True)
class _Job:
    delivery_id: int
    target: WebhookTarget
    body: str
    """The JSON text, sent byte for byte the same on every attempt and by every server."""
    key: str
    attempts: int = 0


@dataclass(slots=True)
class _Receiver:
    target: WebhookTarget
    queue: asyncio.Queue[_Job]
    task: asyncio.Task[None] | None = None
    name: str = field(default="")


class Notifier:
    """Follows the change feed and delivers messages to every configured receiver."""

    def __init__(
        self,
        store: Backend,
        settings: NotifySettings,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.log = delivery_log(store)
        self.settings = settings
        self.clock = clock or SystemClock()
        import httpx  # only here: a console that notifies nobody never loads it (6 MB RSS)

        self._client = httpx.AsyncClient(
            timeout=settings.timeout, transport=transport, follow_redirects=False
        )
        self._receivers = [
            _Receiver(t, asyncio.Queue(maxsize=settings.queue_size), name=name)
            for t, name in zip(settings.webhooks, unique_names(settings.webhooks), strict=True)
        ]
        self._feed: asyncio.Task[None] | None = None
        self.since = 0

    async def start(self, since: int | None = None) -> None:
        """Deliver what happens from now on (or after change ``since``)."""
        if since is None:
            # Where the last leader stopped, if the store keeps it; otherwise from now.
            kept = await self.log.cursor()
            since = kept if kept is not None else await self.store.last_seq()
        self.since = since
        # What the last run logged but no receiver confirmed goes out again first.
        await self._resend(await self.log.pending())
        for receiver in self._receivers:
            receiver.task = asyncio.create_task(self._deliver(receiver), name="notify-deliver")
        self._feed = asyncio.create_task(self._follow(), name="notify-feed")

    async def stop(self) -> None:
        for task in [self._feed, *(r.task for r in self._receivers)]:
            if task is not None:
                await _cancel(task)
        await self._client.aclose()

    async def _resend(self, pending: Sequence[PendingDelivery]) -> None:
        by_name = {receiver.name: receiver for receiver in self._receivers}
        for row in pending:
            receiver = by_name.get(row.target)
            if receiver is None or not row.body:
                error = (
                    f"no webhook named {row.target!r} on this server to send it again"
                    if receiver is None
                    else "the server stopped before it was delivered"
                )
                await self._mark(row.id, "failed", row.attempts, error)
            elif receiver.queue.maxsize > 0 and receiver.queue.full():
                error = f"queue full ({receiver.queue.maxsize} waiting)"
                await self._mark(row.id, "dropped", row.attempts, error)
            else:
                job = _Job(row.id, receiver.target, row.body, row.key, attempts=row.attempts)
                receiver.queue.put_nowait(job)

    async def _mark(
        self, delivery_id: int, status: DeliveryStatus, attempts: int, error: str
    ) -> None:
        await self.log.update(
            delivery_id,
            status,
            attempts=attempts,
            response_code=None,
            error=error,
            at=self.clock.now(),
        )

    # following the feed -------------------------------------------------------------------
    async def _follow(self) -> None:
        while True:
            try:
                async for change in self.store.watch(self.since):
                    await self.handle(change)
                    self.since = change.seq
                return  # the store closed
            except BackendError as exc:
                log.warning("notifier: change feed unreadable, retrying: %s", exc)
                await asyncio.sleep(1.0)

    async def handle(self, change: Change) -> None:
        """Queue the messages one change calls for (never waits for a receiver)."""
        if change.entity != "incident" or not self._receivers:
            return
        try:
            incident = await self.store.get_incident(int(change.entity_id))
            timeline = await self.store.timeline(incident.id)
        except BackendError as exc:
            log.warning("notifier: cannot read %s: %s", change.entity_id, exc)
            return
        entries = [e for e in timeline if e.version == change.version]
        messages = events_for(incident, entries)
        if any(m.entry.data.get("paged") for m in messages):
            messages = await self._with_paged(messages)
        jobs: list[tuple[_Receiver, Message]] = [
            (receiver, message)
            for message in messages
            for receiver in self._receivers
            if wants(receiver.target, message)
        ]
        if not jobs:
            return
        now = self.clock.now()
        rows: list[NewDelivery] = []
        accepted: list[tuple[_Receiver, str]] = []
        room = {id(r): r.queue.maxsize - r.queue.qsize() for r in self._receivers}
        for receiver, message in jobs:
            # maxsize 0 would be an unbounded queue: never full.
            full = receiver.queue.maxsize > 0 and room[id(receiver)] <= 0
            body = json.dumps(body_for(receiver.target, message), separators=(",", ":"))
            entry = message.entry
            key = idempotency_key(
                receiver.name, message.event, message.incident.id, entry.version, entry.id
            )
            rows.append(
                NewDelivery(
                    at=now,
                    target=receiver.name,
                    url=redacted(receiver.target.url),
                    event=message.event,
                    incident_key=message.incident.key,
                    status="dropped" if full else "queued",
                    error="" if not full else f"queue full ({receiver.queue.maxsize} waiting)",
                    key=key,
                    body=body if not full else "",
                )
            )
            if not full:
                room[id(receiver)] -= 1
            accepted.append((receiver, body))
        ids = await self.log.add(rows, seq=change.seq)
        for delivery_id, row, (receiver, body) in zip(ids, rows, accepted, strict=True):
            # None: another notifier logged this very message (same key) and sends it.
            if delivery_id is not None and row.status == "queued":
                receiver.queue.put_nowait(_Job(delivery_id, receiver.target, body, row.key))

    async def _with_paged(self, messages: Sequence[Message]) -> list[Message]:
        try:
            people = {user.id: user for user in await self.store.users()}
        except BackendError as exc:
            log.warning("notifier: cannot read the people paged: %s", exc)
            return list(messages)
        return [
            replace(m, paged=tuple(people[p] for p in m.entry.data.get("paged", ()) if p in people))
            for m in messages
        ]

    # delivering ---------------------------------------------------------------------------
    async def _deliver(self, receiver: _Receiver) -> None:
        while True:
            job = await receiver.queue.get()
            try:
                await self._send(job)
            except BackendError as exc:
                log.warning("notifier: cannot write the delivery log: %s", exc)
            finally:
                receiver.queue.task_done()

    async def _send(self, job: _Job) -> None:
        import httpx

        while True:
            job.attempts += 1
            code: int | None = None
            error = ""
            try:
                response = await self._client.post(
                    job.target.url,
                    content=job.body,
                    headers={"Content-Type": "application/json", "Idempotency-Key": job.key}
                    if job.key
                    else {"Content-Type": "application/json"},
                )
                code = response.status_code
                if 200 <= code < 300:
                    await self._log(job, "delivered", code, "")
                    return
                error = f"HTTP {code}: {clean(response.text, limit=200)}"
                retry = code >= 500 or code in RETRY_STATUSES
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {clean(str(exc), limit=200)}".rstrip(": ")
                retry = True
            if not retry or job.attempts >= self.settings.attempts:
                await self._log(job, "failed", code, error)
                return
            await self._log(job, "retrying", code, error)
            await asyncio.sleep(backoff_delay(self.settings, job.attempts))

    async def _log(self, job: _Job, status: DeliveryStatus, code: int | None, error: str) -> None:
        await self.log.update(
            job.delivery_id,
            status,
            attempts=job.attempts,
            response_code=code,
            error=error,
            at=self.clock.now(),
        )

    async def drain(self) -> None:
        """Wait until every queued message is delivered or given up (tests, shutdown)."""
        for receiver in self._receivers:
            await receiver.queue.join()


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it to end.

    Cancelled again until it ends: on Python 3.11 ``asyncio.wait_for`` swallows a
    cancellation that arrives just as its inner wait completes (the store's ``watch()`` polls
    with it), so a single ``cancel()`` can be lost and awaiting the task would hang forever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.warning("notifier task ended with %r", task.exception())
