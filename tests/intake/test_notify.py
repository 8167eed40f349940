"""ChatOps notifications against a real loopback HTTP receiver: formats, filters, retries
with backoff, the delivery log, and a stuck receiver that must not slow intake."""

from __future__ import annotations

import asyncio
import json

from console.domain.config import IntakeSettings, NotifySettings, WebhookTarget
from console.domain.intake import parse_alertmanager
from console.domain.lifecycle import Escalate, Resolve
from console.domain.models import Contact, ContactKind, NewIncident, Priority, User
from console.services.notifier import Message, Notifier, backoff_delay, deliveries, slack_body
from tests.intake.conftest import Intake, am_body, fixture_body
from tests.intake.receiver import Receiver
from tests.waiting import wait_until


def settings(*targets: WebhookTarget, **kw: object) -> NotifySettings:
    values: dict[str, object] = {"backoff": 0.01, "timeout": 1.0, "attempts": 4}
    values.update(kw)
    return NotifySettings(webhooks=list(targets), **values)  # type: ignore[arg-type]


async def test_slack_message_is_retried_with_backoff_until_delivered(intake: Intake) -> None:
    async with Receiver(fail_first=2) as receiver:
        target = WebhookTarget(url=receiver.url, format="slack", min_priority="P1")
        notifier = Notifier(intake.store, settings(target), clock=intake.clock)
        await notifier.start()
        try:
            _, signals = parse_alertmanager(
                json.dumps(fixture_body("firing.json")), IntakeSettings()
            )
            result = await intake.store.ingest(intake.am, signals)
            await wait_until(lambda: receiver.requests)
            await notifier.drain()
        finally:
            await notifier.stop()
    [body] = receiver.requests
    [key] = result.created
    assert body["text"].startswith(f"[P1] {key} new incident: 5xx rate above 5%")
    assert body["blocks"][0]["type"] == "section"
    assert receiver.attempts == 3
    [delivery] = await deliveries(intake.store)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert delivery.event == "incident.created" and delivery.incident_key == key
    assert "secretpath" not in delivery.url, "webhook URLs carry secrets in their path"


async def test_gives_up_after_the_configured_attempts(intake: Intake) -> None:
    async with Receiver(fail_first=100) as receiver:
        target = WebhookTarget(url=receiver.url, min_priority="P5")
        notifier = Notifier(intake.store, settings(target, attempts=3), clock=intake.clock)
        await notifier.start()
        try:
            await intake.store.create_incident(NewIncident(title="x", service="search"), "alice")
            await wait_until(lambda: receiver.attempts >= 3)
            await notifier.drain()
        finally:
            await notifier.stop()
    [delivery] = await deliveries(intake.store)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 503)
    assert "try later" in delivery.error


async def test_a_4xx_answer_is_not_retried(intake: Intake) -> None:
    async with Receiver(fail_first=100, fail_status=404) as receiver:
        notifier = Notifier(
            intake.store,
            settings(WebhookTarget(url=receiver.url, min_priority="P5")),
            clock=intake.clock,
        )
        await notifier.start()
        try:
            await intake.store.create_incident(NewIncident(title="x", service="search"), "alice")
            await wait_until(lambda: receiver.attempts >= 1)
            await notifier.drain()
        finally:
            await notifier.stop()
    assert receiver.attempts == 1
    assert (await deliveries(intake.store))[0].status == "failed"


async def test_events_and_priority_filters_and_json_body(intake: Intake) -> None:
    async with Receiver() as receiver:
        target = WebhookTarget(
            url=receiver.url,
            format="json",
            events=["incident.created", "incident.resolved"],
            min_priority="P2",
        )
        notifier = Notifier(intake.store, settings(target), clock=intake.clock)
        await notifier.start()
        try:
            low = await intake.store.create_incident(
                NewIncident(title="low", service="search", priority=Priority.P4), "alice"
            )
            high = await intake.store.create_incident(
                NewIncident(title="high <!channel>", service="search", priority=Priority.P1),
                "alice",
            )
            await intake.store.act(low.id, Resolve(), "alice", low.version)
            await intake.store.act(high.id, Resolve(), "alice", high.version)
            # Everything the notifier will ever send for these changes: it has handled the
            # last change, and whatever that queued has been delivered.
            last = await intake.store.last_seq()
            await wait_until(lambda: notifier.since >= last)
            await notifier.drain()
        finally:
            await notifier.stop()
    events = [(r["event"], r["incident"]["key"]) for r in receiver.requests]
    assert events == [("incident.created", high.key), ("incident.resolved", high.key)]
    assert receiver.requests[1]["entry"]["actor"] == "alice"


def test_slack_text_cannot_mention_or_link() -> None:
    from datetime import UTC, datetime

    from console.domain.models import EntryKind, Incident, TimelineEntry

    now = datetime(2026, 1, 1, tzinfo=UTC)
    incident = Incident(
        id=1,
        key="INC-1",
        title="<!channel> <http://evil|click> & \x1b[31m",
        service="s",
        created_at=now,
        updated_at=now,
    )
    entry = TimelineEntry(
        incident_id=1, version=1, at=now, actor="a", kind=EntryKind.CREATED, message="m"
    )
    body = slack_body(Message("incident.created", incident, entry))
    assert "<" not in body["text"] and "\x1b" not in body["text"]
    assert "&lt;!channel&gt;" in body["text"]


def test_backoff_doubles_up_to_a_cap() -> None:
    s = NotifySettings(backoff=1.0)
    assert [backoff_delay(s, n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(s, 30) == 300.0


async def test_a_stuck_receiver_never_slows_intake(intake: Intake) -> None:
    # The receiver never answers and the notifier waits a minute for it: were intake held
    # up by a delivery in any way, the 20 ingests below could not finish while it hangs.
    async with Receiver(delay=3600.0) as receiver:
        target = WebhookTarget(url=receiver.url, min_priority="P5")
        notifier = Notifier(
            intake.store, settings(target, timeout=60.0, queue_size=2), clock=intake.clock
        )
        await notifier.start()
        try:
            _, signals = parse_alertmanager(
                json.dumps(fixture_body("firing.json")), IntakeSettings()
            )
            for n in range(20):
                body = am_body([{"fingerprint": f"f{n}"}], group_key=f"g{n}")
                _, signals = parse_alertmanager(json.dumps(body), IntakeSettings())
                await intake.store.ingest(intake.am, signals)
            await wait_until(lambda: receiver.attempts >= 1)

            async def logged() -> list[str]:
                return [d.status for d in await deliveries(intake.store, 100)]

            async def all_logged() -> bool:
                return len(await logged()) >= 20

            await wait_until(all_logged)
        finally:
            await notifier.stop()
    statuses = await logged()
    assert len(statuses) == 20
    assert receiver.attempts == 1, "the first delivery was still stuck all along"
    # and with room for 2 behind it, the rest were dropped rather than waited for
    assert statuses.count("dropped") >= 15, statuses


async def test_a_message_left_unconfirmed_by_a_stopped_server_is_sent_again(
    intake: Intake,
) -> None:
    """The delivery log is the outbox: the next notifier sends what the last one logged but
    never got an answer for, with the same idempotency key, so the receiver acts once."""
    hold = asyncio.Event()
    async with Receiver(hold=hold) as receiver:
        target = WebhookTarget(url=receiver.url, min_priority="P5")
        first = Notifier(intake.store, settings(target, timeout=30.0), clock=intake.clock)
        await first.start()
        await intake.store.create_incident(NewIncident(title="x", service="search"), "alice")
        await wait_until(lambda: receiver.attempts >= 1, what="the first copy to arrive")
        await first.stop()
        [queued] = await deliveries(intake.store)
        assert queued.status == "queued" and queued.key
        second = Notifier(intake.store, settings(target), clock=intake.clock)
        await second.start()
        try:
            await wait_until(lambda: receiver.attempts >= 2, what="the copy sent again")
            hold.set()
            await second.drain()
            await wait_until(lambda: len(receiver.requests) >= 2, what="both copies accepted")
        finally:
            await second.stop()
    [delivery] = await deliveries(intake.store)
    assert (delivery.id, delivery.status, delivery.key) == (queued.id, "delivered", queued.key)
    assert receiver.arrived == [queued.key, queued.key], "two copies, one key"
    [(key, body)] = receiver.once().items()
    assert key == queued.key and body["event"] == "incident.created"


async def test_an_escalation_carries_the_contact_methods_of_who_it_pages(intake: Intake) -> None:
    bob = User(
        id="bob",
        name="Bob",
        email="bob@example.com",
        contacts=(Contact(kind=ContactKind.SMS, to="+1 555 0100"),),
    )
    await intake.store.put_user(bob)
    async with Receiver() as receiver:
        target = WebhookTarget(url=receiver.url, format="json", events=["incident.escalated"])
        notifier = Notifier(intake.store, settings(target), clock=intake.clock)
        await notifier.start()
        try:
            incident = await intake.store.create_incident(
                NewIncident(title="db down", service="checkout", priority=Priority.P1), "alice"
            )
            await intake.store.act(incident.id, Escalate(), "alice", incident.version)
            last = await intake.store.last_seq()
            await wait_until(lambda: notifier.since >= last)
            await notifier.drain()
        finally:
            await notifier.stop()
    (request,) = receiver.requests
    assert request["event"] == "incident.escalated"
    assert request["paged"] == [
        {
            "handle": "bob",
            "name": "Bob",
            "email": "bob@example.com",
            "contacts": [{"kind": "sms", "to": "+1 555 0100"}],
        }
    ]


async def test_two_notifiers_on_one_store_send_each_message_once(intake: Intake) -> None:
    """Two leaders for a moment (the old one has not noticed it lost the lead): both log the
    same messages under the same keys, the log keeps one row per key, one of them sends."""
    async with Receiver() as receiver:
        target = WebhookTarget(url=receiver.url, min_priority="P5")
        notifiers = [Notifier(intake.store, settings(target), clock=intake.clock) for _ in range(2)]
        for notifier in notifiers:
            await notifier.start()
        try:
            for n in range(3):
                await intake.store.create_incident(
                    NewIncident(title=f"x{n}", service="search"), "alice"
                )
            last = await intake.store.last_seq()
            await wait_until(
                lambda: all(n.since >= last for n in notifiers), what="both to handle the feed"
            )
            for notifier in notifiers:
                await notifier.drain()
        finally:
            for notifier in notifiers:
                await notifier.stop()
    logged = await deliveries(intake.store)
    assert len(logged) == 3 and {d.status for d in logged} == {"delivered"}
    assert sorted(receiver.arrived) == sorted(d.key for d in logged), "each key sent once"
    assert len(set(receiver.arrived)) == 3
