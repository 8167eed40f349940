"""Demo data and a simulator: ``incidents --demo`` and ``incidents demo``.

``build`` is pure: from a seed and a ``now`` it makes a directory (services, people, teams,
escalation policies, on-call schedules), about 2,000 past incidents over 90 days and about 40
open ones in every state and SLA situation. Every incident is played through the real
lifecycle (``console.domain.lifecycle.apply``) at past times, together with what the automatic
escalator would have done on its own (escalations when a level's wait ran out, SLA breach
marks), so timelines are genuine and the SLA engine agrees with them. ``seed`` writes the
result into a store in one go; ``Simulator`` then keeps the queue alive through the public
backend contract, acting as the demo people, never as the person at the console.

No Textual here: the console, the server and ``incidents demo`` all use this module.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backends import capabilities
from backends.base import Backend, BackendError, Conflict, InvalidAction, NotFound
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings
from console.domain.directory import Directory
from console.domain.escalation import (
    next_escalation_at,
    on_call,
    paged_at,
    plan_automatic,
    plan_manual,
)
from console.domain.lifecycle import (
    Acknowledge,
    Action,
    AddLink,
    AddNote,
    AlertRepeated,
    Assign,
    Cancel,
    Close,
    Escalate,
    Hold,
    InvalidTransition,
    MarkBreached,
    PublicUpdate,
    Publish,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
    apply,
    created_entry,
)
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    HoldReason,
    Incident,
    IncidentQuery,
    Link,
    LinkKind,
    NewIncident,
    Override,
    Pause,
    Priority,
    ResolutionCode,
    Rotation,
    Schedule,
    Service,
    Status,
    TargetKind,
    Team,
    TimelineEntry,
    User,
    priority_for,
    utc,
)
from console.domain.sla import ClockKind, SlaPolicy, clock_bounds, counted, due_time
from console.domain.text import clean

ESCALATOR = "escalator"
"""Actor of what the automatic escalator did on its own (escalations, SLA breach marks)."""
HISTORY_DAYS = 90
CLOCKS: tuple[ClockKind, ...] = ("response", "resolution")

# --- the directory -------------------------------------------------------------------------

TEAMS: tuple[tuple[str, str], ...] = (
    ("platform", "Platform & SRE"),
    ("commerce", "Commerce"),
    ("core", "Core Services"),
)

PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("priya", "Priya Raman", "platform"),
    ("marcus", "Marcus Webb", "platform"),
    ("lena", "Lena Hoffmann", "platform"),
    ("tomas", "Tomás Alvarez", "platform"),
    ("sofia", "Sofia Rossi", "commerce"),
    ("kwame", "Kwame Mensah", "commerce"),
    ("hannah", "Hannah Becker", "commerce"),
    ("yuki", "Yuki Tanaka", "core"),
    ("omar", "Omar Haddad", "core"),
    ("ines", "Inês Costa", "core"),
)
LEADS = {"platform": "priya", "commerce": "sofia", "core": "yuki"}

# id, name, team, relative incident frequency, description
SERVICES: tuple[tuple[str, str, str, int, str], ...] = (
    ("checkout", "Checkout", "commerce", 10, "Cart, checkout web and order placement"),
    ("payments", "Payments", "commerce", 9, "Card and wallet payments via two PSPs"),
    ("billing", "Billing", "commerce", 4, "Invoices, subscriptions and dunning"),
    ("inventory", "Inventory", "commerce", 6, "Stock levels and reservations"),
    ("shipping", "Shipping", "commerce", 5, "Carrier integrations and labels"),
    ("search", "Search", "core", 8, "Product search (OpenSearch) and autocomplete"),
    ("auth", "Auth", "core", 7, "Login, SSO, sessions and tokens"),
    ("notifications", "Notifications", "core", 7, "E-mail, SMS and push delivery"),
    ("api-gateway", "API Gateway", "platform", 9, "Public edge: routing, rate limits, TLS"),
    ("postgres-main", "Postgres (main)", "platform", 5, "Primary OLTP cluster with replicas"),
    ("kafka", "Kafka", "platform", 6, "Event bus, 5 brokers"),
    ("cdn", "CDN", "platform", 4, "Static assets and image resizing at the edge"),
)

SERVICE_WEIGHTS = {sid: weight for sid, _n, _t, weight, _d in SERVICES}


def _zone(name: str) -> str:
    """``name`` if this machine knows the timezone, else UTC (a bare container may not)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _with_on_call(rotation: Rotation, timezone: str, now: datetime, user: str) -> Rotation:
    """``rotation`` with its users reordered so that ``user`` has the shift covering ``now``."""
    probe = Schedule(id="probe", name="probe", timezone=timezone, rotations=(rotation,))
    current = on_call(probe, now)
    users = list(rotation.users)
    if current is None or user not in users:
        return rotation
    shift = (users.index(user) - users.index(current)) % len(users)
    return rotation.model_copy(update={"users": tuple(users[shift:] + users[:shift])})


def directory(now: datetime, user: str | None = None) -> Directory:
    """The demo organisation. ``user`` (the person at the console) joins a team and is the
    primary on call of that team's weekly rotation right now."""
    now = utc(now)
    people = [User(id=i, name=n, email=f"{i}@example.com", team=t) for i, n, t in PEOPLE]
    if user is not None and all(p.id != user for p in people):
        people.append(User(id=user, name=user, email="", team="platform"))
    me = next((p for p in people if p.id == user), None)
    members = {team: tuple(p.id for p in people if p.team == team) for team, _ in TEAMS}

    # Weekly rotations hand off on Monday 09:00 UTC and started before the history window.
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    if monday > now:
        monday -= timedelta(days=7)
    start = monday - timedelta(weeks=14)
    berlin = _zone("Europe/Berlin")

    def weekly(team: str, timezone: str = "UTC") -> Rotation:
        rotation = Rotation(name="primary", users=members[team], start=start)
        if me is not None and me.team == team:
            return _with_on_call(rotation, timezone, now, me.id)
        return rotation

    hour = timedelta(hours=1)
    schedules = (
        Schedule(id="platform-oncall", name="Platform on call", rotations=(weekly("platform"),)),
        Schedule(
            id="commerce-oncall",
            name="Commerce on call",
            timezone=berlin,
            rotations=(
                weekly("commerce", berlin),
                # Office hours are covered by whoever is in the office that day.
                Rotation(
                    name="office hours",
                    users=("kwame", "hannah"),
                    start=start,
                    shift=timedelta(days=1),
                    active_hours=(9, 17),
                ),
            ),
        ),
        Schedule(
            id="core-oncall",
            name="Core on call",
            rotations=(weekly("core"),),
            overrides=(
                # A past swap inside the history window, and one covering right now.
                Override(
                    user="omar",
                    start=now - timedelta(days=37, hours=6),
                    end=now - timedelta(days=35),
                ),
                Override(
                    user="ines",
                    start=(now - 20 * hour).replace(minute=0, second=0, microsecond=0),
                    end=(now + 28 * hour).replace(minute=0, second=0, microsecond=0),
                ),
            ),
        ),
    )

    def level(wait_minutes: int, *targets: tuple[TargetKind, str]) -> EscalationLevel:
        return EscalationLevel(
            targets=tuple(EscalationTarget(kind=k, id=i) for k, i in targets),
            wait=timedelta(minutes=wait_minutes),
        )

    sched, usr = TargetKind.SCHEDULE, TargetKind.USER
    policies = (
        EscalationPolicy(
            id="platform-escalation",
            name="Platform: on call, lead, then both leads",
            levels=(
                level(10, (sched, "platform-oncall")),
                level(15, (usr, "priya")),
                level(30, (usr, "priya"), (usr, "marcus")),
            ),
            repeat=2,
        ),
        EscalationPolicy(
            id="commerce-escalation",
            name="Commerce: on call, then lead",
            levels=(level(5, (sched, "commerce-oncall")), level(20, (usr, "sofia"))),
            repeat=1,
        ),
        EscalationPolicy(
            id="core-escalation",
            name="Core: on call, on call and lead, then leads",
            levels=(
                level(15, (sched, "core-oncall")),
                level(15, (sched, "core-oncall"), (usr, "yuki")),
                level(30, (usr, "yuki"), (usr, "omar")),
            ),
        ),
    )
    services = tuple(
        Service(
            id=sid,
            name=name,
            team=team,
            policy=f"{team}-escalation",
            auto_resolve=sid not in ("payments", "postgres-main"),
            description=text,
        )
        for sid, name, team, _weight, text in SERVICES
    )
    return Directory(
        teams=tuple(Team(id=i, name=n) for i, n in TEAMS),
        users=tuple(people),
        schedules=schedules,
        policies=policies,
        services=services,
    )


# --- what alerts and people write ----------------------------------------------------------

# Per service and severity (critical -> P1/P2, warning -> P3, info -> P4/P5): alert name and
# title template. Placeholders are filled from _FILL.
ALERTS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "checkout": {
        "critical": (
            ("CheckoutErrorRate", "High 5xx rate on checkout-web ({pct}% over 5m)"),
            ("OrderPlacementFailing", "Order placement failing in {region}"),
        ),
        "warning": (
            ("CheckoutLatencyHigh", "Checkout p99 latency {ms}ms (SLO 800ms)"),
            ("CartPodsRestarting", "cart-svc pods restarting ({n} restarts in 15m)"),
        ),
        "info": (("CouponCacheMiss", "Coupon cache hit ratio below 80%"),),
    },
    "payments": {
        "critical": (
            ("PaymentAuthDrop", "Card authorisation rate dropped to {low}% (PSP adyen)"),
            ("PSPTimeouts", "PSP stripe timing out for {pct}% of requests"),
        ),
        "warning": (("RefundQueueBacklog", "Refund queue backlog {n}k (threshold 500)"),),
        "info": (("PSPCertExpiry", "PSP client certificate expires in {days} days"),),
    },
    "billing": {
        "critical": (("InvoiceRunFailed", "Nightly invoice run failed at step {n}/9"),),
        "warning": (("DunningJobSlow", "Dunning job running {m}m late"),),
        "info": (("TaxRateTableStale", "Tax rate table older than 30 days"),),
    },
    "inventory": {
        "critical": (("StockSyncStalled", "Stock sync from WMS stalled for {m}m"),),
        "warning": (("ReservationLockWaits", "Reservation lock waits above {ms}ms"),),
        "info": (("NegativeStock", "{n}{m} SKUs show negative stock"),),
    },
    "shipping": {
        "critical": (("LabelAPIDown", "Carrier label API (DHL) returning 503"),),
        "warning": (("TrackingWebhookLag", "Tracking webhooks lagging {m}m behind"),),
        "info": (("CarrierRateCardChange", "Carrier rate card changes next week"),),
    },
    "search": {
        "critical": (
            ("SearchClusterRed", "OpenSearch cluster health RED ({n} unassigned shards)"),
            ("SearchErrorRate", "Search API error rate {pct}%"),
        ),
        "warning": (
            ("SearchLatencyHigh", "Search p95 latency {ms}ms"),
            ("IndexingLag", "Product indexing lag {m}m"),
        ),
        "info": (("SynonymsOutdated", "Autocomplete synonyms not refreshed for 7 days"),),
    },
    "auth": {
        "critical": (
            ("LoginFailureSpike", "Login failures spiking ({pct}% of attempts)"),
            ("SSOProviderDown", "SSO provider (Okta) unreachable from {region}"),
        ),
        "warning": (("TokenRefreshErrors", "Token refresh errors {n}/min"),),
        "info": (("JWKSRotationDue", "JWKS signing key rotation due in {days} days"),),
    },
    "notifications": {
        "critical": (("SMSProviderFailing", "SMS provider rejecting {pct}% of messages"),),
        "warning": (
            ("EmailBounceRate", "E-mail bounce rate {m}% (threshold 5%)"),
            ("PushQueueDepth", "Push queue depth {n}k"),
        ),
        "info": (("SPFRecordWarning", "SPF record close to the 10-lookup limit"),),
    },
    "api-gateway": {
        "critical": (
            ("GatewayDown", "API gateway health check failing in {region}"),
            ("Gateway5xx", "Gateway 5xx rate {pct}% across all routes"),
        ),
        "warning": (
            ("RateLimitRejections", "Rate limiter rejecting {n}00 req/s for partner keys"),
            ("TLSHandshakeErrors", "TLS handshake errors on edge-{n}"),
        ),
        "info": (("CertExpirySoon", "Certificate api.example.com expires in {days} days"),),
    },
    "postgres-main": {
        "critical": (
            ("PostgresPrimaryDown", "Postgres primary pg-main-{n} not accepting connections"),
            ("ReplicationBroken", "Replication broken to replica pg-main-{n}"),
        ),
        "warning": (
            ("ReplicationLag", "Replication lag {m}s on pg-main-2"),
            ("DiskUsageHigh", "Disk usage {high}% on pg-main-{n}"),
        ),
        "info": (("VacuumBehind", "Autovacuum behind on table orders ({n}M dead tuples)"),),
    },
    "kafka": {
        "critical": (
            ("BrokerDown", "Kafka broker kafka-{n} offline, {n}0 partitions under-replicated"),
        ),
        "warning": (
            ("ConsumerLag", "Consumer group order-events lag {n}k messages"),
            ("ISRShrink", "ISR shrinking on topic payments.v2"),
        ),
        "info": (("TopicRetention", "Topic audit.log retention close to disk budget"),),
    },
    "cdn": {
        "critical": (("OriginErrors", "CDN origin errors {pct}% in {region}"),),
        "warning": (("CacheHitDrop", "CDN cache hit ratio dropped to {low}%"),),
        "info": (("PurgeQuota", "CDN purge quota {high}% used this month"),),
    },
}

# What people report through the service desk (source "manual").
REPORTS: dict[str, tuple[str, ...]] = {
    "checkout": ("Customers report the basket empties at the payment step",),
    "payments": (
        "Customers report double charges on Apple Pay",
        "Card payments declined for Visa debit",
    ),
    "billing": ("Enterprise customer received an invoice in the wrong currency",),
    "inventory": ("Store staff see wrong stock for the winter collection",),
    "shipping": ("Labels printing with the wrong return address",),
    "search": ("Search returns no results for product codes",),
    "auth": (
        "Users cannot reset their password (link expired)",
        "Staff locked out of the admin SSO",
    ),
    "notifications": ("Order confirmation e-mails arrive hours late",),
    "api-gateway": ("Partner reports 429s on the orders API",),
    "postgres-main": ("Reporting queries time out since this morning",),
    "kafka": ("Warehouse events missing since the last deploy",),
    "cdn": ("Product images load slowly in Australia",),
}

REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2")
SEVERITY = {1: "critical", 2: "critical", 3: "warning", 4: "info", 5: "info"}
PAIRS: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((1, 1),),
    2: ((1, 2), (2, 1)),
    3: ((1, 3), (2, 2), (3, 1)),
    4: ((2, 3), (3, 2)),
    5: ((3, 3),),
}

# Median minutes to acknowledge and to resolve (working time, holds excluded) per priority,
# drawn log-normally: P1 acknowledged in minutes and resolved in a couple of hours, P5 in days.
MTTA_MEDIAN = {1: 3.0, 2: 6.0, 3: 12.0, 4: 180.0, 5: 840.0}
MTTR_MEDIAN = {1: 80.0, 2: 180.0, 3: 840.0, 4: 3600.0, 5: 10080.0}
PRIORITY_WEIGHTS = (3, 10, 35, 35, 17)

NOTES = (
    "Looking into it.",
    "Checked the dashboards: started right after the {ver} deploy.",
    "Rolled back to {ver}; watching error rates.",
    "Scaled out from {n} to {m} replicas.",
    "Vendor ticket opened: #{ticket}.",
    "Root cause looks like connection pool exhaustion.",
    "Error rate back to baseline, keeping it open for 30 minutes.",
    "Customer comms posted on the status page.",
    "Paired with {person} on this.",
    "Restarted the stuck consumer; lag is draining.",
    "Not reproducible from {region}; asking support for a HAR file.",
    "Added a temporary rate limit for the noisy client.",
)
RESOLUTIONS = (
    (ResolutionCode.FIXED, 60, "Fixed: {fix}."),
    (ResolutionCode.WORKAROUND, 15, "Workaround in place: {fix}; problem record to follow."),
    (ResolutionCode.FALSE_ALARM, 6, "Threshold too tight; alert tuned."),
    (ResolutionCode.DUPLICATE, 4, "Same cause as the earlier incident today."),
    (ResolutionCode.NOT_REPRODUCIBLE, 3, "Could not reproduce; monitoring."),
)
FIXES = (
    "rolled back the deploy",
    "rotated the expired certificate",
    "increased the connection pool",
    "failed over to the standby",
    "cleared the poisoned message",
    "raised the disk and pruned old WAL",
    "restarted the stuck workers",
    "PSP fixed their side",
)
CANCEL_REASONS = ("test alert from the monitoring rollout", "raised in error", "duplicate page")
HOLD_NOTES = {
    HoldReason.AWAITING_CALLER: "Asked the reporter for order numbers.",
    HoldReason.AWAITING_VENDOR: "Waiting for the vendor to confirm a fix on their side.",
    HoldReason.AWAITING_CHANGE: "Fix scheduled in tonight's change window.",
    HoldReason.AWAITING_PROBLEM: "Parked under a problem record until root cause is known.",
}


def _fill(rng: random.Random, template: str, people: Sequence[str] = ("marcus",)) -> str:
    return template.format(
        pct=rng.choice((7, 12, 18, 23, 34, 41, 63, 87)),
        low=rng.choice((12, 23, 38, 51, 64)),
        high=rng.choice((86, 91, 94, 97)),
        ms=rng.choice((850, 1200, 1900, 2400, 3100)),
        n=rng.randint(2, 9),
        m=rng.randint(10, 24),
        days=rng.choice((3, 7, 14)),
        region=rng.choice(REGIONS),
        ver=f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        ticket=rng.randint(10000, 99999),
        person=rng.choice(people),
        fix=rng.choice(FIXES),
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """What arrives to open an incident: title, description, source, dedup key, labels."""

    title: str
    description: str
    source: str
    dedup_key: str | None
    labels: dict[str, str]


def make_alert(rng: random.Random, service: str, rank: int, source: str) -> Alert:
    """A plausible alert (or service-desk report) for ``service`` at priority rank 1..5."""
    region = rng.choice(REGIONS)
    if source == "manual":
        title = rng.choice(REPORTS[service])
        return Alert(
            title=title,
            description=f"Reported through the service desk ({region} customers).",
            source=source,
            dedup_key=None,
            labels={"channel": rng.choice(("phone", "portal", "chat"))},
        )
    severity = SEVERITY[rank]
    name, template = rng.choice(ALERTS[service][severity])
    title = _fill(rng, template)
    labels = {"env": "prod", "region": region, "severity": severity}
    if source == "alertmanager":
        labels["alertname"] = name
        description = (
            f"{name} firing for {service} in {region}.\n"
            f"Runbook: https://runbooks.example.com/{service}/{name}"
        )
    else:
        labels["class"] = name
        description = f"Event from the {service} health checker ({region})."
    return Alert(
        title=title,
        description=description,
        source=source,
        dedup_key=f"{service}/{name}/{region}",
        labels=labels,
    )


def _lognormal(rng: random.Random, median_minutes: float, sigma: float) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(math.log(median_minutes), sigma))


# --- playing a plan through the lifecycle --------------------------------------------------


class _World:
    """The directory as lookups, the SLA policy and the random source of one build."""

    def __init__(
        self, rng: random.Random, now: datetime, dirs: Directory, sla: SlaPolicy, me: str
    ) -> None:
        self.rng = rng
        self.now = now
        self.sla = sla
        self.me = me
        self.policies = {p.id: p for p in dirs.policies}
        self.schedules = {s.id: s for s in dirs.schedules}
        self.services = {s.id: s for s in dirs.services}
        self.members: dict[str, tuple[str, ...]] = {}
        for person in dirs.users:
            if person.team:
                self.members[person.team] = (*self.members.get(person.team, ()), person.id)
        self.service_ids = list(SERVICE_WEIGHTS)
        self.service_weights = list(SERVICE_WEIGHTS.values())
        self.next_id = 1
        self.holds = 0

    def team_of(self, service: str) -> str:
        return self.services[service].team or "platform"


class _Replay:
    """One incident played forward through ``apply``, with the escalator's own moves.

    Before each planned action, whatever the automatic escalator would have done by then
    happens first, at the moment it was due: an escalation when a level's wait ran out with
    nobody acknowledging, a breach mark when an SLA clock ran out.
    """

    def __init__(self, world: _World, incident: Incident, creator: str) -> None:
        self.world = world
        self.incident = incident
        self.entries: list[TimelineEntry] = [created_entry(incident, creator)]
        self.at = incident.created_at
        self.policy = world.policies.get(incident.policy) if incident.policy else None

    def _apply(self, at: datetime, actor: str, action: Action) -> bool:
        try:
            self.incident, entries = apply(self.incident, action, actor, at)
        except InvalidTransition:
            # Plans are drawn at random and the escalator may have moved the incident in
            # between: a move that no longer fits is simply not made, as a person would.
            return False
        self.entries.extend(entries)
        self.at = at
        return True

    def _next_automatic(self) -> tuple[datetime, str] | None:
        incident = self.incident
        best: tuple[datetime, str] | None = None
        if incident.is_open and incident.status != Status.ON_HOLD:
            sla = self.world.sla
            for kind in CLOCKS:
                if getattr(incident, f"{kind}_breached"):
                    continue
                start, stop = clock_bounds(incident, kind)
                target = sla.target(incident.priority, kind)
                if stop is None:
                    due = due_time(start, target, incident.pauses, sla.calendar, self.at)
                elif counted(start, stop, incident.pauses, sla.calendar) > target:
                    # A stopped clock re-targeted by a priority change: breached in hindsight,
                    # marked as soon as the change is seen.
                    due = self.at
                else:
                    continue
                if best is None or due < best[0]:
                    best = (due, kind)
        escalate = next_escalation_at(incident, self.policy)
        if escalate is not None and (best is None or escalate < best[0]):
            best = (escalate, "escalate")
        return best

    def catch_up(self, until: datetime) -> None:
        """Do what the escalator would have done up to ``until``."""
        while True:
            step = self._next_automatic()
            if step is None or step[0] > until:
                return
            at, what = max(step[0], self.at), step[1]
            if what == "escalate":
                planned = plan_automatic(self.incident, self.policy, self.world.schedules, at)
                if planned is None:
                    return
                (target, paged) = planned
                action: Action = Escalate(
                    level=target.level, loop=target.loop, paged=tuple(paged), automatic=True
                )
            else:
                action = MarkBreached(clock="response" if what == "response" else "resolution")
            if not self._apply(at, ESCALATOR, action):
                return

    def do(self, at: datetime, actor: str, action: Action) -> bool:
        self.catch_up(at)
        return self._apply(max(at, self.at), actor, action)

    # people -------------------------------------------------------------------------------
    def team(self) -> tuple[str, ...]:
        return self.world.members[self.world.team_of(self.incident.service)]

    def paged(self, at: datetime) -> list[str]:
        if self.policy is None:
            return []
        return paged_at(self.policy, self.incident.escalation_level, at, self.world.schedules)

    def responder(self, at: datetime, exclude: str | None = None) -> str:
        """Who answers a page at ``at``: someone paged, else someone on the team."""
        paged = [p for p in self.paged(at) if p != exclude]
        if paged:
            return paged[0]
        team = [p for p in self.team() if p != exclude] or list(self.team())
        return self.world.rng.choice(team)

    def answer_by(self, at: datetime) -> datetime:
        """``at``, or earlier: well inside the current level's wait, so a planned
        acknowledgement is not overtaken by the escalator (people answer pages quickly)."""
        if self.policy is None or self.incident.status != Status.TRIGGERED:
            return at
        wait = self.policy.levels[
            min(self.incident.escalation_level, len(self.policy.levels)) - 1
        ].wait
        since = self.incident.escalated_at or self.incident.created_at
        return max(self.at, min(at, since + wait * 0.6))

    def owner(self) -> str:
        return self.incident.assignee or self.team()[0]

    def escalate(self, at: datetime, actor: str, note: str = "") -> bool:
        self.catch_up(at)
        at = max(at, self.at)
        step, paged = plan_manual(self.incident, self.policy, self.world.schedules, at)
        action = Escalate(level=step.level, loop=step.loop, paged=tuple(paged), note=note)
        return self._apply(at, actor, action)


def _new(
    world: _World,
    created_at: datetime,
    service: str,
    rank: int,
    source: str,
    *,
    paging: bool,
    alert: Alert | None = None,
) -> tuple[Incident, str]:
    """An incident as a backend creates it from a ``NewIncident``, and who created it."""
    rng = world.rng
    alert = alert or make_alert(rng, service, rank, source)
    impact, urgency = rng.choice(PAIRS[rank])
    priority = priority_for(impact, urgency)
    incident_id = world.next_id
    world.next_id += 1
    incident = Incident(
        id=incident_id,
        key=f"INC-{incident_id}",
        # Cleaned as a store cleans what arrives (the same limits as ``SqliteBackend``).
        title=clean(alert.title, limit=500),
        description=clean(alert.description, multiline=True),
        service=service,
        impact=impact,
        urgency=urgency,
        priority=priority,
        policy=world.services[service].policy if paging else None,
        created_at=created_at,
        source=alert.source,
        dedup_key=alert.dedup_key,
        alert_count=1 if alert.source != "manual" else 0,
        labels={clean(k, limit=64): clean(v, limit=500) for k, v in alert.labels.items()},
        updated_at=created_at,
    )
    creator = alert.source if alert.source != "manual" else "servicedesk"
    return incident, creator


# --- history -------------------------------------------------------------------------------


@dataclass(slots=True)
class _PastPlan:
    """The shape of one past incident, decided before its creation time is known."""

    service: str
    rank: int
    source: str
    tta: timedelta
    work: timedelta
    hold: tuple[HoldReason, timedelta] | None
    reopen: tuple[timedelta, timedelta] | None
    cancel: bool
    span: timedelta
    created_at: datetime = datetime.min


def _plan_past(world: _World) -> _PastPlan:
    rng = world.rng
    rank = rng.choices((1, 2, 3, 4, 5), PRIORITY_WEIGHTS)[0]
    service = rng.choices(world.service_ids, world.service_weights)[0]
    source = rng.choices(("alertmanager", "events", "manual"), (55, 25, 20))[0]
    tta = _lognormal(rng, MTTA_MEDIAN[rank], 0.9)
    work = max(
        _lognormal(rng, MTTR_MEDIAN[rank], 0.75), tta + timedelta(minutes=rng.uniform(3, 30))
    )
    hold = None
    if rank >= 2 and rng.random() < (0.0, 0.0, 0.05, 0.12, 0.18, 0.2)[rank]:
        reason = rng.choice(tuple(HoldReason))
        hold = (
            reason,
            _lognormal(rng, 360.0 if reason != HoldReason.AWAITING_CHANGE else 1200.0, 0.8),
        )
    reopen = None
    if rng.random() < 0.03:
        reopen = (_lognormal(rng, 240.0, 0.8), _lognormal(rng, MTTR_MEDIAN[rank] * 0.3, 0.6))
    cancel = rng.random() < 0.03
    span = work + (hold[1] if hold else timedelta(0))
    if reopen:
        span += reopen[0] + reopen[1]
    return _PastPlan(service, rank, source, tta, work, hold, reopen, cancel, span)


def _created_time(world: _World, span: timedelta) -> datetime:
    """A creation time in the history window, leaving room for ``span`` before ``now``.

    Incidents come more often on weekday daytime than at night or at weekends.
    """
    rng = world.rng
    latest = world.now - span - timedelta(minutes=5)
    earliest = world.now - timedelta(days=HISTORY_DAYS)
    if latest <= earliest:
        return latest
    width = (latest - earliest).total_seconds()
    at = latest
    for _ in range(4):
        at = earliest + timedelta(seconds=int(rng.random() * width))
        weight = 1.0 if 7 <= at.hour < 20 else 0.35
        if at.weekday() >= 5:
            weight *= 0.6
        if rng.random() < weight:
            break
    return at


def _play_past(world: _World, plan: _PastPlan) -> tuple[Incident, list[TimelineEntry]]:
    rng = world.rng
    # Low priorities land in a ticket queue and page nobody; P1-P3 page the service's policy.
    incident, creator = _new(
        world, plan.created_at, plan.service, plan.rank, plan.source, paging=plan.rank <= 3
    )
    run = _Replay(world, incident, creator)
    c = plan.created_at
    ack_at = c + plan.tta
    if plan.source == "alertmanager" and rng.random() < 0.3:
        run.do(
            c + plan.tta * 0.5,
            plan.source,
            AlertRepeated(count=rng.randint(1, 12), summary=plan.source),
        )
    run.catch_up(ack_at)
    if plan.cancel:
        actor = run.responder(ack_at)
        if rng.random() < 0.5:
            run.do(ack_at, actor, Acknowledge())
        run.do(
            ack_at + timedelta(minutes=rng.uniform(1, 20)),
            actor,
            Cancel(reason=rng.choice(CANCEL_REASONS)),
        )
        return run.incident, run.entries
    run.do(ack_at, run.responder(ack_at), Acknowledge())

    # The work between acknowledgement and resolution, with a hold somewhere in the middle.
    work_end = c + plan.work
    window = (work_end - ack_at).total_seconds()
    middle: list[tuple[float, str]] = []
    for _ in range(rng.choices((0, 1, 2, 3), (25, 40, 25, 10))[0]):
        middle.append((rng.random(), "note"))
    if rng.random() < 0.08:
        middle.append((rng.uniform(0.05, 0.9), "reassign"))
    if rng.random() < 0.05:
        middle.append((rng.uniform(0.05, 0.5), "priority"))
    if plan.rank <= 3 and rng.random() < 0.05:
        middle.append((rng.uniform(0.02, 0.3), "escalate"))
    if rng.random() < 0.04:
        middle.append((rng.uniform(0.1, 0.9), "link"))
    hold_at = rng.uniform(0.4, 0.8) if plan.hold else 2.0
    hold_shift = plan.hold[1] if plan.hold else timedelta(0)
    if plan.hold:
        middle.append((hold_at, "hold"))
    middle.sort()

    def when(fraction: float) -> datetime:
        at = ack_at + timedelta(seconds=fraction * window)
        return at + hold_shift if fraction > hold_at else at

    for fraction, what in middle:
        at = when(fraction)
        if what == "note":
            run.do(
                at,
                rng.choice((run.owner(), run.owner(), rng.choice(run.team()))),
                AddNote(text=_fill(rng, rng.choice(NOTES), run.team())),
            )
        elif what == "reassign":
            others = [p for p in run.team() if p != run.incident.assignee]
            run.do(at, run.owner(), Assign(assignee=rng.choice(others)))
        elif what == "priority":
            rank = max(1, min(5, plan.rank + rng.choice((-1, 1))))
            impact, urgency = rng.choice(PAIRS[rank])
            run.do(at, run.owner(), SetPriority(impact=impact, urgency=urgency))
        elif what == "escalate":
            if run.escalate(at, run.owner(), "Need more hands on this."):
                reack = at + timedelta(minutes=rng.uniform(1, 8))
                run.do(reack, run.responder(reack, exclude=run.owner()), Acknowledge())
        elif what == "link":
            ref = (
                f"CHG-{rng.randint(2000, 4999)}"
                if rng.random() < 0.6
                else f"PRB-{rng.randint(100, 399)}"
            )
            kind = LinkKind.CHANGE if ref.startswith("CHG") else LinkKind.PROBLEM
            run.do(at, run.owner(), AddLink(link=Link(kind=kind, ref=ref)))
        elif what == "hold" and plan.hold:
            reason, length = plan.hold
            run.do(at, run.owner(), Hold(reason=reason, note=HOLD_NOTES[reason]))
            run.do(at + length, run.owner(), Resume(note="Back on it."))
    resolve_at = work_end + hold_shift
    _resolve(run, resolve_at, plan.source)
    if plan.reopen:
        gap, extra = plan.reopen
        run.do(resolve_at + gap, run.owner(), Reopen(reason="It is back: same symptoms."))
        _resolve(run, resolve_at + gap + extra, "manual")
    if rng.random() < 0.7:
        closed = run.at + timedelta(hours=rng.uniform(12, 72))
        if closed < world.now:
            run.do(closed, run.owner(), Close())
    return run.incident, run.entries


def _resolve(run: _Replay, at: datetime, source: str) -> None:
    rng = run.world.rng
    if source == "alertmanager" and rng.random() < 0.25:
        run.do(at, source, Resolve(code=ResolutionCode.AUTO_RESOLVED, note="alert cleared"))
        return
    code, _weight, template = rng.choices(RESOLUTIONS, [r[1] for r in RESOLUTIONS])[0]
    run.do(at, run.owner(), Resolve(code=code, note=_fill(rng, template)))


# --- open incidents ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Case:
    """One kind of open incident: where its active SLA clock stands at ``now``.

    ``clock``: ``fresh`` / ``running`` / ``warning`` / ``breached`` / ``paused`` (how much of
    the active clock's target is used). Steps are placed at a fraction of the incident's age,
    or at a ``timedelta`` before ``now``.
    """

    name: str
    count: int
    ranks: tuple[int, ...]
    clock: str
    steps: tuple[tuple[float | timedelta, str], ...] = ()
    teams: tuple[str, ...] = ("platform", "commerce", "core")
    paging: bool = True
    source: str = ""
    title: str = ""


CASES: tuple[_Case, ...] = (
    _Case("fresh P1", 2, (1,), "fresh", source="alertmanager"),
    _Case("fresh P2", 2, (2,), "fresh"),
    _Case("response warning", 2, (2, 3), "warning"),
    _Case("response breached", 2, (2, 3), "breached"),
    _Case("acknowledged", 8, (2, 3, 3, 4), "running", ((0.04, "ack"), (0.3, "note"))),
    _Case("resolution warning", 3, (1, 2, 3), "warning", ((0.03, "ack"), (0.5, "note"))),
    _Case("resolution breached", 3, (1, 2, 3), "breached", ((0.02, "ack"), (0.4, "note"))),
    _Case("on hold", 4, (2, 3, 4), "paused", ((0.05, "ack"), (0.4, "hold"))),
    _Case("resumed", 1, (3,), "running", ((0.05, "ack"), (0.2, "hold"), (0.6, "resume"))),
    _Case(
        "escalated to 2", 2, (1, 2), "running", ((0.05, "ack"), (0.4, "escalate"), (0.45, "ack"))
    ),
    _Case(
        "escalated to 3",
        1,
        (1, 2),
        "running",
        ((0.05, "ack"), (0.3, "escalate"), (0.35, "escalate"), (0.4, "ack")),
        teams=("platform", "core"),
    ),
    _Case(
        "paging level 3",
        1,
        (2,),
        "running",
        ((0.05, "ack"), (timedelta(minutes=12), "escalate"), (timedelta(minutes=7), "escalate")),
        teams=("platform", "core"),
    ),
    _Case("unassigned ticket", 3, (4, 5), "running", paging=False, source="manual"),
    _Case("mine", 2, (2, 3), "running", ((0.04, "ack-me"), (0.5, "note"))),
    _Case("mine warning", 1, (3,), "warning", ((0.04, "ack-me"),)),
    _Case("mine on hold", 1, (3, 4), "paused", ((0.05, "ack-me"), (0.5, "hold"))),
    _Case("assigned to me", 1, (3,), "fresh", ((0.3, "assign-me"),), paging=False),
    _Case("markup title", 1, (3,), "running", ((0.05, "ack"),), title="markup"),
    _Case("long title", 1, (4,), "running", title="long", paging=False),
)

HOSTILE_TITLES = {
    "markup": "[bold red]DISK FULL[/] on db-7 [link=https://evil.example]click me[/link] [blink]",
    "long": (
        "Alert storm: KubePodCrashLooping namespace=checkout pod=checkout-web-7f9c5d6b8-x2kq9 "
        "container=app reason=OOMKilled restarts=57 node=ip-10-42-17-203.eu-west-1.compute."
        "internal; also KubeDeploymentReplicasMismatch deployment=checkout-web desired=12 "
        "available=3; also TargetDown job=checkout-web instances=9/12 for 45m and counting "
        "(see the grafana board Checkout / Golden Signals)"
    ),
}


def _cases(count: int) -> list[_Case]:
    """``count`` cases, interleaved so the first ``len(CASES)`` cover every kind once."""
    order: list[_Case] = []
    rounds = max(case.count for case in CASES)
    for r in range(rounds):
        order.extend(case for case in CASES if r < case.count)
    if count <= 0:
        return []
    return [order[i % len(order)] for i in range(count)]


def _fraction(clock: str, warning: float, rng: random.Random) -> float:
    if clock == "fresh":
        return rng.uniform(0.03, 0.25)
    if clock == "running":
        return rng.uniform(0.1, min(0.6, warning * 0.8))
    if clock == "warning":
        return warning + (1 - warning) * rng.uniform(0.2, 0.8)
    if clock == "breached":
        return rng.uniform(1.15, 2.5)
    return rng.uniform(0.2, 0.6)  # paused


def _age_for(world: _World, case: _Case, kind: str, target: timedelta) -> timedelta:
    """The age at which the active clock has used ``target`` (steps scale with the age).

    Found by bisection over ``counted`` so it also holds on a business-hours calendar.
    """
    now = world.now
    holds = [f for f, what in case.steps if what == "hold" and isinstance(f, float)]
    resumes = [f for f, what in case.steps if what == "resume" and isinstance(f, float)]

    def used(age: timedelta) -> timedelta:
        start = now - age
        pauses = [
            Pause(start=start + age * h, end=(start + age * r) if r is not None else None)
            for h, r in zip(holds, resumes + [None] * (len(holds) - len(resumes)), strict=True)
        ]
        return counted(start, now, pauses, world.sla.calendar)

    low, high = timedelta(0), timedelta(days=HISTORY_DAYS)
    if used(high) < target:
        return high
    for _ in range(40):
        mid = (low + high) / 2
        if used(mid) < target:
            low = mid
        else:
            high = mid
    return timedelta(seconds=math.ceil(high.total_seconds()))


def _plan_open(world: _World, case: _Case) -> tuple[datetime, _Case, int, str]:
    rng = world.rng
    team = rng.choice(case.teams)
    services = [s for s in world.service_ids if world.team_of(s) == team]
    service = rng.choice(services)
    rank = rng.choice(case.ranks)
    acked = any(what.startswith("ack") for _f, what in case.steps)
    kind = "resolution" if acked else "response"
    target = world.sla.target(Priority.from_rank(rank), kind)  # type: ignore[arg-type]
    used = target * _fraction(case.clock, world.sla.warning, rng)
    age = _age_for(world, case, kind, used)
    before_now = [spot for spot, _ in case.steps if isinstance(spot, timedelta)]
    if before_now:
        # Steps placed shortly before ``now`` need an incident older than them.
        age = max(age, max(before_now) + timedelta(minutes=5))
    return world.now - age, case, rank, service


def _play_open(
    world: _World, created_at: datetime, case: _Case, rank: int, service: str
) -> tuple[Incident, list[TimelineEntry]]:
    rng = world.rng
    source = case.source or rng.choices(("alertmanager", "events", "manual"), (60, 25, 15))[0]
    alert = make_alert(rng, service, rank, source)
    if case.title:
        alert = Alert(
            title=HOSTILE_TITLES[case.title],
            description="Payload as received:\n\x1b[2J\x1b[31mred alert\x1b[0m [bold]not bold[/bold]",
            source=alert.source,
            dedup_key=alert.dedup_key,
            labels={**alert.labels, "note": "[i]not italic[/i]"},
        )
    # As in the history, low priorities (P4, P5) page nobody.
    paging = case.paging and rank <= 3
    incident, creator = _new(world, created_at, service, rank, source, paging=paging, alert=alert)
    run = _Replay(world, incident, creator)
    now = world.now
    age = now - created_at
    me = world.me
    if source == "alertmanager" and rng.random() < 0.4:
        repeat_at = created_at + min(age * 0.01, timedelta(minutes=2))
        run.do(repeat_at, source, AlertRepeated(count=rng.randint(1, 30)))
    for spot, what in case.steps:
        at = now - spot if isinstance(spot, timedelta) else created_at + age * spot
        if what == "ack":
            at = run.answer_by(at)
            run.do(at, run.responder(at, exclude=me), Acknowledge())
        elif what == "ack-me":
            run.do(run.answer_by(at), me, Acknowledge())
        elif what == "assign-me":
            run.do(at, LEADS[world.team_of(service)], Assign(assignee=me))
        elif what == "note":
            run.do(at, run.owner(), AddNote(text=_fill(rng, rng.choice(NOTES), run.team())))
        elif what == "hold":
            reason = rng.choice(tuple(HoldReason))
            if case.clock == "paused":
                # Cycle through the reasons so every kind of hold is on screen.
                reason = list(HoldReason)[world.holds % len(HoldReason)]
                world.holds += 1
            run.do(at, run.owner(), Hold(reason=reason, note=HOLD_NOTES[reason]))
        elif what == "resume":
            run.do(at, run.owner(), Resume(note="Vendor answered."))
        elif what == "escalate":
            run.escalate(at, run.owner(), "No progress, pulling in the next level.")
    run.catch_up(now)
    return run.incident, run.entries


# --- building and seeding ------------------------------------------------------------------

Record = tuple[Incident, list[TimelineEntry]]


@dataclass(frozen=True, slots=True)
class DemoData:
    seed: int
    now: datetime
    user: str
    directory: Directory
    history: tuple[Record, ...]
    """Past incidents (resolved, closed, cancelled), oldest first."""
    open: tuple[Record, ...]
    """Open incidents, oldest first."""

    @property
    def records(self) -> list[Record]:
        """Every incident with its timeline, oldest first (the order ids are given in)."""
        return sorted((*self.history, *self.open), key=lambda r: r[0].created_at)


def build(
    *,
    now: datetime,
    seed: int | None = None,
    history: int = 2000,
    open_count: int = 40,
    user: str | None = None,
    sla: SlaPolicy | None = None,
) -> DemoData:
    """The whole demo, pure and deterministic for a given ``now`` and ``seed``.

    ``user`` is the person at the console: they join a team, are on call now, and some open
    incidents are theirs. ``sla`` should be the console's SLA policy, so the open incidents
    sit where they are meant to (fresh, warning, breached, paused) on its clocks.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    now = utc(now).replace(microsecond=0)
    rng = random.Random(seed)
    # Without a user, the first demo person plays that part (on call now, some incidents).
    me = user if user is not None else PEOPLE[0][0]
    dirs = directory(now, me)
    world = _World(rng, now, dirs, sla or SlaPolicy(), me)

    # Decide every creation time first, so ids can follow creation order.
    past = [_plan_past(world) for _ in range(max(0, history))]
    for plan in past:
        plan.created_at = _created_time(world, plan.span)
    opened = [_plan_open(world, case) for case in _cases(open_count)]
    order: list[tuple[datetime, int, Any]] = [(p.created_at, 0, p) for p in past]
    order += [(o[0], 1, o) for o in opened]
    order.sort(key=lambda item: (item[0], item[1]))

    done: list[Record] = []
    still_open: list[Record] = []
    for _at, is_open, item in order:
        if is_open:
            still_open.append(_play_open(world, *item))
        else:
            done.append(_play_past(world, item))
    _publish_some(world, done, still_open)
    return DemoData(
        seed=seed,
        now=now,
        user=me,
        directory=dirs,
        history=tuple(done),
        open=tuple(still_open),
    )


PUBLIC_OPEN = 2
PUBLIC_PAST = 3


def _publish_some(world: _World, done: list[Record], still_open: list[Record]) -> None:
    """Put a few incidents on the status page, as a communications lead would: the most
    severe open ones with an update or two, and some recent major ones after the fact.
    Uses no randomness, so the rest of the demo is the same with or without it."""
    now = world.now
    names = {service.id: service.name for service in world.services.values()}

    def publish(record: Record, at: datetime, title: str, updates: Sequence[str]) -> Record:
        incident, entries = record
        lead = LEADS[world.team_of(incident.service)]
        entries = list(entries)
        first, *rest = updates
        incident, new = apply(incident, Publish(title=title, message=first), lead, at)
        entries += new
        for offset, text in enumerate(rest, start=1):
            later = min(now, at + timedelta(minutes=20 * offset))
            incident, new = apply(incident, PublicUpdate(message=text), lead, later)
            entries += new
        return incident, entries

    severe = sorted(
        (i for i, (incident, _) in enumerate(still_open) if incident.priority.rank <= 2),
        key=lambda i: (still_open[i][0].priority.rank, still_open[i][0].created_at),
    )
    for index in severe[:PUBLIC_OPEN]:
        incident, _ = still_open[index]
        name = names.get(incident.service, incident.service)
        at = min(now, max(incident.updated_at, incident.created_at + timedelta(minutes=10)))
        what = "unavailable" if incident.priority.rank == 1 else "slow or failing for some users"
        still_open[index] = publish(
            still_open[index],
            at,
            f"{name} {what}",
            [
                f"We are investigating reports that {name} is {what}.",
                "We have identified the cause and are working on a fix.",
            ],
        )
    window = now - timedelta(days=30)
    past = sorted(
        (
            i
            for i, (incident, _) in enumerate(done)
            if incident.priority.rank <= 2
            and incident.resolved_at is not None
            and incident.resolved_at >= window
        ),
        key=lambda i: done[i][0].resolved_at or now,
        reverse=True,
    )
    for index in past[:PUBLIC_PAST]:
        incident, _ = done[index]
        name = names.get(incident.service, incident.service)
        started, ended = incident.created_at, incident.resolved_at or incident.updated_at
        done[index] = publish(
            done[index],
            incident.updated_at,
            f"{name} disruption",
            [
                f"From {started:%b %d %H:%M} to {ended:%b %d %H:%M} UTC, {name} was "
                "disrupted for some users. The cause has been fixed and service is back "
                "to normal.",
            ],
        )


class DemoError(Exception):
    """The demo cannot be written here; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class SeedSummary:
    seed: int
    user: str
    services: int
    people: int
    teams: int
    policies: int
    schedules: int
    history: int
    open: int
    build_seconds: float
    write_seconds: float

    def lines(self) -> list[str]:
        return [
            f"  {self.services} services, {self.people} people in {self.teams} teams, "
            f"{self.policies} escalation policies, {self.schedules} on-call schedules",
            f"  {self.history} past incidents over {HISTORY_DAYS} days, {self.open} open; "
            f"{self.user} is on call now",
            f"  built in {self.build_seconds:.2f} s, written in {self.write_seconds:.2f} s "
            f"(seed {self.seed})",
        ]


async def seed(
    backend: Backend,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    seed: int | None = None,
    history: int = 2000,
    open_count: int = 40,
    user: str | None = None,
    sla: SlaPolicy | None = None,
) -> SeedSummary:
    """Write the demo directory and incidents into ``backend`` (a local store).

    Whatever is not given comes from ``settings`` (``user``, ``demo.seed``, ``sla``), then
    from the backend itself: ``now`` from its clock, the SLA policy from its settings, so the
    open incidents sit where they are meant to on the clocks the console will show.
    """
    importer = capabilities.importer(backend)
    if importer is None:
        raise DemoError(
            f"{backend.description} cannot take bulk imports; the demo needs a local "
            "SQLite database (use --db or --demo without --backend)"
        )
    store = capabilities.store(backend)
    own = store.settings if store is not None else None
    if settings is not None:
        user = user if user is not None else settings.user
        seed = seed if seed is not None else settings.demo.seed
        sla = sla or settings.sla
    if sla is None and own is not None:
        sla = own.sla
    if now is None:
        now = store.clock.now() if store is not None else SystemClock().now()
    started = time.perf_counter()
    data = build(now=now, seed=seed, history=history, open_count=open_count, user=user, sla=sla)
    built = time.perf_counter()
    dirs = data.directory
    for team in dirs.teams:
        await backend.put_team(team)
    for person in dirs.users:
        await backend.put_user(person)
    for schedule in dirs.schedules:
        await backend.put_schedule(schedule)
    for policy in dirs.policies:
        await backend.put_policy(policy)
    for service in dirs.services:
        await backend.put_service(service)
    await importer.import_records(data.records)
    written = time.perf_counter()
    return SeedSummary(
        seed=data.seed,
        user=data.user,
        services=len(dirs.services),
        people=len(dirs.users),
        teams=len(dirs.teams),
        policies=len(dirs.policies),
        schedules=len(dirs.schedules),
        history=len(data.history),
        open=len(data.open),
        build_seconds=built - started,
        write_seconds=written - built,
    )


# --- the simulator -------------------------------------------------------------------------


class Simulator:
    """Keeps a demo alive: new incidents arrive, people acknowledge, work and resolve them.

    Every move goes through the public backend contract with the version just read, exactly
    like another console would; when somebody else got there first (``Conflict``) the move
    is skipped. The actors are the demo people, never ``user`` (the person at the console),
    and incidents assigned to ``user`` are left to them.
    """

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        rate: float = 6.0,
        seed: int | None = None,
        *,
        user: str | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.rate = rate
        self.user = user
        self.rng = random.Random(seed)
        self.steps = 0
        self.last = ""
        self._people: dict[str, tuple[str, ...]] = {}
        self._services: list[Service] = []

    async def run(self) -> None:
        """Make ``rate`` moves a minute on average (Poisson arrivals), until cancelled."""
        if self.rate <= 0:
            await asyncio.Event().wait()
        mean = 60.0 / self.rate
        while True:
            await asyncio.sleep(min(4 * mean, max(0.1, self.rng.expovariate(1 / mean))))
            try:
                self.last = await self.step()
            except BackendError as exc:
                # A busy or vanished store must not stop the demo; the next move retries.
                self.last = f"skipped: {exc}"

    async def _load(self) -> None:
        if self._services:
            return
        self._services = [s for s in await self.backend.services() if s.id in ALERTS]
        if not self._services:
            self._services = await self.backend.services()
        people: dict[str, list[str]] = {}
        for person in await self.backend.users():
            if person.id != self.user and person.team:
                people.setdefault(person.team, []).append(person.id)
        self._people = {team: tuple(ids) for team, ids in people.items()}

    def _team(self, service: str) -> tuple[str, ...]:
        team = next((s.team for s in self._services if s.id == service), None)
        if team and self._people.get(team):
            return self._people[team]
        return tuple(p for ids in self._people.values() for p in ids) or ("sim",)

    async def _responder(self, incident: Incident) -> str:
        paged = [p for p in await self.backend.paged_now(incident.id) if p != self.user]
        return paged[0] if paged else self.rng.choice(self._team(incident.service))

    def _owner(self, incident: Incident) -> str:
        if incident.assignee and incident.assignee != self.user:
            return incident.assignee
        return self.rng.choice(self._team(incident.service))

    async def step(self) -> str:
        """One move; returns what happened in a line (for logs and tests)."""
        self.steps += 1
        await self._load()
        if not self._services:
            return "idle: no services to raise incidents on"
        rng = self.rng
        theirs = [
            i
            for i in await self.backend.list_incidents(IncidentQuery(limit=500))
            if i.assignee is None or i.assignee != self.user
        ]
        triggered = [i for i in theirs if i.status == Status.TRIGGERED]
        acked = [i for i in theirs if i.status == Status.ACKNOWLEDGED]
        held = [i for i in theirs if i.status == Status.ON_HOLD]
        # Only monitoring repeats itself; a service-desk ticket does not fire again.
        alerting = [i for i in triggered if i.source != "manual"]
        crowd = len(theirs)
        moves = {
            "create": 3.0 if crowd < 30 else 1.5 if crowd < 60 else 0.4,
            "burst": 0.15 if crowd < 70 else 0.0,
            "acknowledge": 3.0 if triggered else 0.0,
            "resolve": (2.5 if crowd < 60 else 5.0) if acked else 0.0,
            "note": 1.2 if acked else 0.0,
            "escalate": 0.5 if triggered or acked else 0.0,
            "hold": 0.4 if acked else 0.0,
            "resume": 0.6 if held else 0.0,
            "repeat": 0.5 if alerting else 0.0,
        }
        move = rng.choices(list(moves), list(moves.values()))[0]
        if move == "create":
            return await self._create()
        if move == "burst":
            return await self._burst()
        pool = {"acknowledge": triggered, "repeat": alerting, "resume": held}.get(
            move, acked if move in ("resolve", "note", "hold") else triggered + acked
        )
        return await self._act(move, self._pick(move, pool))

    def _pick(self, move: str, pool: Sequence[Incident]) -> Incident:
        """Urgent pages are answered first; work that has run a while is what gets resolved."""
        now = utc(self.clock.now())
        if move == "acknowledge":
            weights = [float(6 - i.priority.rank) ** 2 for i in pool]
        elif move == "resolve":
            weights = [1.0 + min(120.0, (now - i.updated_at).total_seconds() / 60) for i in pool]
        else:
            weights = [1.0] * len(pool)
        return self.rng.choices(list(pool), weights)[0]

    async def _create(self, service: Service | None = None, rank: int | None = None) -> str:
        rng = self.rng
        weights = [SERVICE_WEIGHTS.get(s.id, 5) for s in self._services]
        service = service or rng.choices(self._services, weights)[0]
        rank = rank or rng.choices((1, 2, 3, 4, 5), (4, 14, 40, 30, 12))[0]
        source = rng.choices(("alertmanager", "events", "manual"), (60, 25, 15))[0]
        alert = (
            make_alert(rng, service.id, rank, source)
            if service.id in ALERTS
            else Alert(
                title=f"Health check failing on {service.name}",
                description="",
                source=source,
                dedup_key=None,
                labels={},
            )
        )
        impact, urgency = rng.choice(PAIRS[rank])
        new = NewIncident(
            title=alert.title,
            service=service.id,
            description=alert.description,
            impact=impact,
            urgency=urgency,
            source=alert.source,
            dedup_key=alert.dedup_key,
            labels=alert.labels,
        )
        actor = source if source != "manual" else "servicedesk"
        incident = await self.backend.create_incident(new, actor)
        return f"created {incident.key} {incident.priority} on {incident.service}: {incident.title}"

    async def _burst(self) -> str:
        """An outage on a shared dependency: several services alert within moments."""
        rng = self.rng
        shared = [s for s in self._services if s.id in ("kafka", "postgres-main", "api-gateway")]
        cause = rng.choice(shared or self._services)
        others = [s for s in self._services if s.id != cause.id]
        services = [cause, *rng.sample(others, k=min(len(others), rng.randint(2, 4)))]
        made = [await self._create(service, rng.choice((1, 2, 2, 3))) for service in services]
        return f"burst of {len(made)}: " + "; ".join(made)

    async def _act(self, move: str, incident: Incident) -> str:
        rng = self.rng
        action: Action
        if move == "acknowledge":
            actor = await self._responder(incident)
            action = Acknowledge()
        elif move == "repeat":
            actor = incident.source
            action = AlertRepeated(count=rng.randint(1, 5))
        elif move == "resolve":
            actor = self._owner(incident)
            code, _weight, template = rng.choices(RESOLUTIONS, [r[1] for r in RESOLUTIONS])[0]
            action = Resolve(code=code, note=_fill(rng, template))
        elif move == "note":
            actor = self._owner(incident)
            team = self._team(incident.service)
            action = AddNote(text=_fill(rng, rng.choice(NOTES), team))
        elif move == "hold":
            actor = self._owner(incident)
            reason = rng.choice(tuple(HoldReason))
            action = Hold(reason=reason, note=HOLD_NOTES[reason])
        elif move == "resume":
            actor = self._owner(incident)
            action = Resume(note="Got what we were waiting for.")
        else:
            actor = self._owner(incident)
            action = Escalate(note="No progress, pulling in the next level.")
        try:
            after = await self.backend.act(incident.id, action, actor, incident.version)
        except Conflict:
            return f"skipped {move} on {incident.key}: somebody else changed it first"
        except (InvalidAction, NotFound) as exc:
            return f"skipped {move} on {incident.key}: {exc}"
        return f"{actor}: {move} {after.key} (now {after.status.label})"


# --- incidents demo ------------------------------------------------------------------------
