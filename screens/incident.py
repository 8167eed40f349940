"""The incident screen: details, both SLA clocks, escalation state and the full timeline.

Everything on it follows the data: the incident is replaced when ``IncidentsChanged`` names
it (and the timeline re-read), the countdowns redraw when the App's one clock (``app.now``)
ticks. The triage keys act on the incident as shown here, at the version shown here.
Incident text comes from alerts: it is cleaned and rendered as plain ``Text``, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from backends.base import BackendError, Conflict, NotFound
from console.domain import durations, explain
from console.domain.changes import Candidate
from console.domain.escalation import next_escalation_at, next_step, paged_at
from console.domain.intake import Alert
from console.domain.keys import MUTATING
from console.domain.lifecycle import AddLink
from console.domain.models import EscalationPolicy, Incident, LinkKind, Status, TimelineEntry
from console.domain.problems import link_state
from console.domain.sla import (
    SlaClock,
    SlaPolicy,
    SlaState,
    format_remaining,
    sla_clock,
)
from console.domain.text import clean
from console.services.reviews import change_candidates
from console.tui.context import context
from screens.clipboard import copy_key
from screens.confirm import ConfirmScreen
from screens.dialog import PRIORITY_STYLES
from screens.links import open_link
from screens.messages import (
    ChangesChanged,
    DirectoryChanged,
    IncidentsChanged,
    PresenceChanged,
    ProblemsChanged,
)
from screens.problem_pick import pick_and_link
from screens.problems import create_from
from screens.triage import error_message
from widgets.change_list import ChangeList
from widgets.footer import StableFooter
from widgets.form_level import LEVEL_NAMES
from widgets.keybindings import bindings_for
from widgets.pairs import Pairs
from widgets.panel import Panel
from widgets.render_once import RenderOnce
from widgets.status_line import StatusLine


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def mmss(seconds: float) -> str:
    """A non-negative duration written the way the SLA cells write it."""
    return durations.countdown(seconds)


class SlaPanel(Panel):
    """Both SLA clocks; colours come from the theme, and every state is also spelled out."""

    COMPONENT_CLASSES = {"sla--warning", "sla--breached", "sla--dim", "sla--ok"}
    DEFAULT_CSS = """
    SlaPanel { height: auto; }
    SlaPanel > .sla--warning { color: $warning; text-style: bold; }
    SlaPanel > .sla--breached { color: $error; text-style: bold reverse; }
    SlaPanel > .sla--dim { color: $text-muted; }
    SlaPanel > .sla--ok { color: $success; }
    """

    def show(self, incident: Incident, now: datetime, policy: SlaPolicy) -> None:
        pairs = Pairs()
        for kind in ("response", "resolution"):
            clock = sla_clock(incident, now, policy, kind)  # type: ignore[arg-type]
            pairs.add(kind.capitalize(), self._clock_text(incident, clock))
        self.show_content(RenderOnce(pairs))

    def _clock_text(self, incident: Incident, clock: SlaClock) -> Text:
        style = self.get_component_rich_style
        target = durations.span(clock.target)
        text = Text()
        if clock.state == SlaState.MET:
            text.append("met", style=style("sla--ok"))
            text.append(f" in {mmss(clock.used.total_seconds())} (target {target})")
        elif clock.state == SlaState.PAUSED:
            text.append("paused", style=style("sla--dim"))
            left = mmss(clock.remaining.total_seconds())
            text.append(f" {left} left of {target} (on hold)")
        elif clock.state == SlaState.BREACHED:
            late = format_remaining(clock)
            text.append(f"!{late} BREACHED", style=style("sla--breached"))
            if clock.due is not None:
                text.append(f" was due {clock.due:%H:%M} (target {target})")
        else:
            left = format_remaining(clock)
            if clock.state == SlaState.WARNING:
                text.append(f"{left} left (warning)", style=style("sla--warning"))
            else:
                text.append(f"{left} left")
            if clock.due is not None:
                text.append(f", due {clock.due:%H:%M} (target {target})")
        return text


ALERT_STYLES = {"firing": "bold red", "acknowledged": "yellow", "resolved": "dim"}
ALERTS_SHOWN = 8


def alert_lines(alerts: Sequence[Alert]) -> Text:
    """The incident's alerts, newest first: status, arrivals, summary and what tells them
    apart (instance / source). Untrusted text, cleaned and never markup."""
    text = Text()
    ordered = sorted(alerts, key=lambda alert: alert.last_seen, reverse=True)
    firing = sum(1 for alert in alerts if alert.status != "resolved")
    text.append(f"{len(alerts)} alerts, {firing} not resolved\n", style="bold")
    for alert in ordered[:ALERTS_SHOWN]:
        text.append(f"{alert.status:<9}", style=ALERT_STYLES.get(alert.status, ""))
        text.append(f" x{alert.count:<3} ")
        where = alert.labels.get("instance") or alert.labels.get("source") or ""
        line = clean(alert.summary) or clean(alert.alert_key)
        if where:
            line += f" ({clean(where)})"
        text.append(clean(line, limit=120) + "\n")
    if len(alerts) > ALERTS_SHOWN:
        text.append(f"... and {len(alerts) - ALERTS_SHOWN} more", style="italic")
    text.rstrip()
    return text


class IncidentScreen(Screen[None]):
    """One incident in full; ``esc`` goes back to where it was opened from."""

    DEFAULT_CSS = """
    IncidentScreen {
        layout: vertical;
    }
    IncidentScreen #headline {
        height: auto;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    IncidentScreen #upper {
        height: auto;
        max-height: 60%;
    }
    IncidentScreen #columns {
        height: auto;
    }
    IncidentScreen #details {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }
    IncidentScreen #side {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }
    IncidentScreen .section {
        color: $text-muted;
        text-style: bold;
        margin-top: 1;
    }
    IncidentScreen #timeline-scroll {
        height: 1fr;
        padding: 0 1;
        border-top: solid $panel-lighten-2;
    }
    IncidentScreen #timeline-scroll:focus {
        border-top: solid $accent;
    }
    IncidentScreen #escalation {
        height: auto;
    }
    IncidentScreen #alerts, IncidentScreen #alerts-title {
        display: none;
    }
    IncidentScreen.-has-alerts #alerts, IncidentScreen.-has-alerts #alerts-title {
        display: block;
    }
    IncidentScreen #changes, IncidentScreen #changes-title,
    IncidentScreen #why, IncidentScreen #why-title, IncidentScreen #presence {
        display: none;
    }
    IncidentScreen.-has-changes #changes, IncidentScreen.-has-changes #changes-title,
    IncidentScreen.-show-why #why, IncidentScreen.-show-why #why-title,
    IncidentScreen.-has-presence #presence {
        display: block;
    }
    IncidentScreen #presence {
        color: $warning;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings_for("incident")]

    def __init__(self, incident_id: int) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.incident: Incident | None = None
        self.entries: list[TimelineEntry] = []
        self.timeline_loaded = False
        """``entries`` are the incident's (read by ``load``), not the empty start."""
        self.alerts: list[Alert] = []
        self.candidates: list[Candidate] = []
        """Changes shortly before this incident started (``console.domain.changes``)."""
        self.load_error = ""
        self._fresh = True
        """Pointed at an incident it has not shown yet (set again by ``show_incident``)."""
        self._drawn: Incident | None = None
        """The incident the headline, details and clocks show (``_show`` drew it)."""
        self._styled_at: int | None = None
        """The App's CSS generation when this screen was last styled whole."""

    def show_incident(self, incident_id: int) -> None:
        """Point this screen at another incident before it is pushed again.

        The queue keeps one incident screen installed and reuses it: building, styling and
        laying out a new screen of widgets is most of what opening an incident costs.
        """
        self.incident_id = incident_id
        self.incident = None
        self.entries = []
        self.timeline_loaded = False
        self.alerts = []
        self.candidates = []
        self.load_error = ""
        self._drawn = None
        self._fresh = True

    # layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Panel(Text("loading…"), id="headline", markup=False)
        yield Panel(Text(""), id="presence", markup=False)
        # Scrolls (tab focuses it) when a small terminal cannot show every detail.
        with VerticalScroll(id="upper"), Horizontal(id="columns"):
            yield Panel(Text(""), id="details", markup=False)
            with Vertical(id="side"):
                yield Static("SLA", classes="section")
                yield SlaPanel(Text(""), id="sla", markup=False)
                yield Static("Escalation", classes="section")
                yield Panel(Text(""), id="escalation", markup=False)
                # Shown only for incidents that monitoring opened (``backend.alerts``).
                yield Static("Alerts", classes="section", id="alerts-title")
                yield Panel(Text(""), id="alerts", markup=False)
                yield Static("Changes before it started", classes="section", id="changes-title")
                yield ChangeList(id="changes")
                yield Static("Why", classes="section", id="why-title")
                yield Panel(Text(""), id="why", markup=False)
        with VerticalScroll(id="timeline-scroll", can_focus=True):
            yield Panel(Text("Timeline: loading…"), id="timeline", markup=False)
        yield StatusLine(id="status")
        yield StableFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "now", self._tick, init=False)
        self._start()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a screen it pushes (Screen._on_screen_resume,
        # which runs after this handler); a reused screen keeps its styles while no CSS
        # changed meanwhile (a theme switch restyles installed screens and counts up
        # ``App._css_update_count``), and restyling the whole tree was a third of an open.
        css_count = getattr(self.app, "_css_update_count", None)
        if css_count is not None and css_count == self._styled_at:
            event.refresh_styles = False
        self._styled_at = css_count
        # Pushed again after ``show_incident``; coming back from a dialog changes nothing.
        self._start()

    def _start(self) -> None:
        if not self._fresh:
            return
        self._fresh = False
        app = context(self)
        known = app.full_incident(self.incident_id)
        self.incident = known
        self._show()
        scroll = self.query_one("#timeline-scroll", VerticalScroll)
        scroll.scroll_home(animate=False)
        self.query_one("#upper", VerticalScroll).scroll_home(animate=False)
        scroll.focus()
        if app.presence is not None:
            app.presence.viewing(self.incident_id)
        self.load()

    # data ----------------------------------------------------------------------------------
    @work(exclusive=True, group="incident-load", exit_on_error=False)
    async def load(self) -> None:
        """Read the incident (if needed) and its timeline from the backend."""
        app = context(self)
        shown_error = self.load_error
        try:
            incident = await app.backend.get_incident(self.incident_id)
            entries = await app.backend.timeline(self.incident_id)
            alerts = await app.backend.alerts(self.incident_id)
            candidates = await change_candidates(
                app.backend, incident, app.directory.services, app.settings.changes.window
            )
        except NotFound:
            self.load_error = f"incident {self.incident_id} no longer exists"
        except BackendError as exc:
            self.load_error = f"could not load the incident: {error_message(exc, self.incident)}"
        else:
            self.load_error = ""
            if self.incident is None or incident.version > self.incident.version:
                self.incident = incident
            self.entries = entries
            self.timeline_loaded = True
            self.alerts = alerts
            self.candidates = candidates or []
        if self.load_error:
            app.set_status(self.load_error, error=True)
        if self.incident is not self._drawn or self.load_error != shown_error:
            self._show()
        else:  # the incident as shown: only what was read with it is new
            self._show_related()

    @on(IncidentsChanged)
    def _incidents_changed(self, message: IncidentsChanged) -> None:
        mine = [i for i in message.changed if i.id == self.incident_id]
        if mine:
            newest = max(mine, key=lambda i: i.version)
            if self.incident is None or newest.version > self.incident.version:
                if isinstance(newest, Incident):  # a row (a page behind the queue): read it
                    self.incident = newest
                    self._show()
                self.load()
        elif self.incident_id in message.removed:
            self.load()

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        self._show()

    @on(ProblemsChanged)
    def _problems_changed(self) -> None:
        links = self.incident.links if self.incident is not None else ()
        if any(link.kind is LinkKind.PROBLEM for link in links):
            self._show()

    @on(ChangesChanged)
    def _changes_recorded(self) -> None:
        self.load()

    @on(PresenceChanged)
    def _presence_changed(self) -> None:
        self._show_presence()

    def _show_presence(self) -> None:
        presence = context(self).presence
        text = presence.describe(self.incident_id) if presence is not None else ""
        self.set_class(bool(text), "-has-presence")
        self.query_one("#presence", Panel).show_content(Text(f"also here: {text}" if text else ""))

    def _tick(self, now: datetime) -> None:
        if self.incident is not None and self.is_mounted and self.is_current:
            self._show_clocks(now)

    # drawing -------------------------------------------------------------------------------
    def _show(self) -> None:
        if not self.is_mounted:
            return
        incident = self.incident
        headline = self.query_one("#headline", Panel)
        if incident is None:
            headline.show_content(Text(self.load_error or "loading…"))
            # what a reused screen showed of the previous incident must not stay up
            self.query_one("#details", Panel).show_content(Text(""))
            self.query_one("#timeline", Panel).show_content(Text("Timeline: loading…"))
            return
        line = Text()
        line.append(incident.key)
        line.append("  ")
        line.append(incident.priority.value, style=PRIORITY_STYLES[incident.priority.value])
        line.append("  ")
        line.append(clean(incident.title) or "(no title)")
        if self.load_error:
            line.append(f"   ({self.load_error})", style="italic")
        headline.show_content(line)
        self.query_one("#details", Panel).show_content(RenderOnce(self._details(incident)))
        self._show_clocks(self._now())
        if self.has_class("-show-why"):
            self.query_one("#why", Panel).show_content(self._why(incident))
        self._drawn = incident
        self._show_related()

    def _show_related(self) -> None:
        """What is read with the incident: its timeline, alerts and the changes before it."""
        incident = self.incident
        if incident is None or not self.is_mounted:
            return
        timeline = self.query_one("#timeline", Panel)
        if self.timeline_loaded or self.load_error:
            timeline.show_content(RenderOnce(self._timeline(self.entries)))
        else:
            # As tall as what it replaces (blank below): the screen is not laid out again
            # for the placeholder, only once the timeline is in and if its height differs.
            blank = "\n" * max(0, timeline.size.height - 1)
            timeline.show_content(Text("Timeline: loading…" + blank))
        self.set_class(bool(self.alerts), "-has-alerts")
        if self.alerts:
            self.query_one("#alerts", Panel).show_content(alert_lines(self.alerts))
        linked = {link.ref for link in incident.links if link.kind is LinkKind.CHANGE}
        self.set_class(bool(self.candidates), "-has-changes")
        self.query_one("#changes", ChangeList).show(self.candidates, linked)
        self._show_presence()

    def _now(self) -> datetime:
        app = context(self)
        now = getattr(app, "now", None)
        return now if isinstance(now, datetime) else app.clock.now()

    def _show_clocks(self, now: datetime) -> None:
        incident = self.incident
        if incident is None:
            return
        app = context(self)
        self.query_one("#sla", SlaPanel).show(incident, now, app.settings.sla)
        self.query_one("#escalation", Panel).show_content(
            RenderOnce(self._escalation(incident, now))
        )

    def _details(self, incident: Incident) -> Pairs:
        app = context(self)
        pairs = Pairs()
        services = {s.id: s for s in app.directory.services}
        service = services.get(incident.service)
        name = f"{incident.service} ({service.name})" if service else incident.service
        pairs.add("Service", clean(name))
        status = incident.status.value.replace("_", " ")
        if incident.status == Status.ON_HOLD and incident.hold_reason:
            status += f" ({incident.hold_reason.value.replace('_', ' ')})"
        if incident.resolution_code:
            status += f" ({incident.resolution_code.value.replace('_', ' ')})"
        if incident.reopen_count:
            status += f", reopened {incident.reopen_count}x"
        pairs.add("Status", status)
        priority = Text()
        priority.append(incident.priority.value, style=PRIORITY_STYLES[incident.priority.value])
        priority.append(
            f" impact {incident.impact} ({LEVEL_NAMES[incident.impact]}),"
            f" urgency {incident.urgency} ({LEVEL_NAMES[incident.urgency]})"
        )
        if incident.priority_override:
            priority.append("  (override)", style="italic")
        pairs.add("Priority", priority)
        pairs.add("Assignee", clean(incident.assignee) or "unassigned")
        source = clean(incident.source)
        if incident.dedup_key:
            source += f"  dedup key {clean(incident.dedup_key, limit=60)}"
        pairs.add("Source", source)
        pairs.add("Alerts", str(incident.alert_count))
        pairs.add("Created", when(incident.created_at))
        if incident.acknowledged_at:
            pairs.add("Acknowledged", when(incident.acknowledged_at))
        if incident.resolved_at:
            pairs.add("Resolved", when(incident.resolved_at))
        if incident.closed_at:
            pairs.add("Closed", when(incident.closed_at))
        labels = ", ".join(
            f"{clean(k, limit=40)}={clean(v, limit=80)}" for k, v in sorted(incident.labels.items())
        )
        pairs.add("Labels", labels or "-")
        problems = context(self).problems
        links = Text("\n").join(
            Text(
                f"{link.kind.value} {clean(link.ref, limit=80)}"
                + (f" ({clean(link.title, limit=60)})" if link.title else "")
                + (f" [{clean(state, limit=20)}]" if (state := link_state(link, problems)) else "")
            )
            for link in incident.links
        )
        pairs.add("Links", links if incident.links else "-")
        if incident.resolution_note:
            pairs.add("Resolution", clean(incident.resolution_note, multiline=True))
        if incident.description:
            pairs.add("Description", clean(incident.description, multiline=True, limit=2000))
        return pairs

    def _escalation(self, incident: Incident, now: datetime) -> Pairs:
        app = context(self)
        directory = app.directory
        policies: dict[str, EscalationPolicy] = {p.id: p for p in directory.policies}
        schedules = {s.id: s for s in directory.schedules}
        pairs = Pairs()
        policy = policies.get(incident.policy or "")
        if policy is None:
            pairs.add(
                "Policy",
                clean(incident.policy) + " (unknown)" if incident.policy else "none",
            )
            return pairs
        pairs.add("Policy", clean(policy.name))
        level = f"{incident.escalation_level} of {len(policy.levels)}"
        if policy.repeat:
            level += f", pass {incident.escalation_loop + 1} of {policy.repeat + 1}"
        pairs.add("Level", level)
        paged = paged_at(policy, incident.escalation_level, now, schedules)
        pairs.add("Paged now", ", ".join(clean(p) for p in paged) or "nobody")
        due = next_escalation_at(incident, policy)
        if due is None:
            if not incident.is_open:
                why = f"none ({incident.status.label})"
            elif incident.status != Status.TRIGGERED:
                why = f"none while {incident.status.value.replace('_', ' ')}"
            else:
                why = "none (last level, no repeats left)"
            pairs.add("Next", why)
        else:
            step = next_step(policy, incident.escalation_level, incident.escalation_loop)
            seconds = (due - now).total_seconds()
            text = Text()
            if seconds > 0:
                text.append(f"in {mmss(seconds)}", style="bold")
            else:
                text.append("due now", style="bold")
            if step is not None:
                nxt = paged_at(policy, step.level, due, schedules)
                text.append(f"  to level {step.level}, paging {', '.join(nxt) or 'nobody'}")
            pairs.add("Next", text)
        return pairs

    def _timeline(self, entries: Sequence[TimelineEntry]) -> Table | Text:
        if not entries:
            return Text("Timeline: no entries yet" if not self.load_error else self.load_error)
        table = Table(
            title=None, show_header=True, header_style="bold", box=None, padding=(0, 1), expand=True
        )
        table.add_column("time", no_wrap=True, style="dim")
        table.add_column("actor", no_wrap=True, max_width=16)
        table.add_column("what happened", ratio=1)
        for entry in entries:
            table.add_row(
                Text(entry.at.strftime("%m-%d %H:%M:%S")),
                Text(clean(entry.actor, limit=16)),
                Text(clean(entry.message, multiline=True, limit=4000)),
            )
        return table

    # keys ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only consoles hide and disable every mutating key.
        if action in ("triage", "public_update") and context(self).readonly:
            return False
        return True

    def action_back(self) -> None:
        presence = context(self).presence
        if presence is not None:
            presence.viewing(None)
        self.dismiss(None)

    def action_triage(self, action_id: str) -> None:
        if action_id not in MUTATING and action_id != "create":
            return
        self._run_triage(action_id)

    @work(group="triage", exit_on_error=False)
    async def _run_triage(self, action_id: str) -> None:
        app = context(self)
        if self.incident is None and action_id != "create":
            app.set_status(self.load_error or "the incident is still loading", error=True)
            return
        targets = [self.incident] if action_id != "create" and self.incident else []
        await app.triage.run(action_id, targets)

    def action_public_update(self) -> None:
        self._public_update()

    @work(group="triage", exclusive=True, exit_on_error=False)
    async def _public_update(self) -> None:
        """Publish this incident on the status page, or post a public update to it."""
        from screens.public_update import PublicUpdateScreen

        app = context(self)
        incident = self.incident
        if incident is None:
            app.set_status(self.load_error or "the incident is still loading", error=True)
            return
        action = await self.app.push_screen_wait(PublicUpdateScreen(incident))
        if action is None:
            return
        try:
            updated = await app.backend.act(incident.id, action, app.user, incident.version)
        except BackendError as exc:
            app.set_status(f"not posted: {error_message(exc, incident)}", error=True)
            return
        app.remember([updated])
        self.incident = updated  # the next U must aim at this version, before the reload
        verb = "published on" if action.kind == "publish" else "public update posted to"
        app.set_status(f"{incident.key} {verb} the status page")
        self.load()

    def action_copy_key(self) -> None:
        if self.incident is not None:
            copy_key(self.app, self.incident.key)

    def action_open_link(self) -> None:
        if self.incident is not None:
            self.run_worker(open_link(self.app, self.incident), group="open-link", exclusive=True)

    def action_link_problem(self) -> None:
        app = context(self)
        if self.incident is None or app.refuse_readonly("link to a problem"):
            return
        self.run_worker(
            pick_and_link(self.app, self.incident), group="problem-link", exclusive=True
        )

    def action_create_problem(self) -> None:
        app = context(self)
        if self.incident is None or app.refuse_readonly("create a problem"):
            return
        self.run_worker(
            create_from(self.app, self.incident), group="problem-create", exclusive=True
        )

    def action_explain(self) -> None:
        """Show (or hide) why the alerts joined this incident and why it has its priority."""
        self.toggle_class("-show-why")
        if self.incident is not None:
            self.query_one("#why", Panel).show_content(self._why(self.incident))

    def _why(self, incident: Incident) -> Text:
        rules = context(self).settings.intake
        lines = [f"priority ({incident.key}):"]
        lines += [f"  {line}" for line in explain.priority(incident, self.alerts, rules)]
        for alert in self.alerts:
            lines.append(f"alert {clean(alert.summary, limit=80) or alert.alert_key}:")
            lines += [f"  {clean(line)}" for line in explain.grouping(alert, incident, rules)]
        return Text("\n".join(lines))

    @on(ChangeList.LinkRequested)
    def _link_change(self, message: ChangeList.LinkRequested) -> None:
        self._link(message.candidate)

    @work(group="triage", exclusive=True, exit_on_error=False)
    async def _link(self, candidate: Candidate) -> None:
        """``l`` on a change: link it to this incident (a timeline entry says so)."""
        app = context(self)
        incident = self.incident
        if incident is None or app.refuse_readonly("link a change"):
            return
        change = candidate.change
        if any(link.ref == change.key for link in incident.links):
            app.set_status(f"{change.key} is already linked to {incident.key}")
            return
        try:
            updated = await app.backend.act(
                incident.id, AddLink(link=change.link()), app.user, incident.version
            )
        except Conflict:
            app.set_status(
                f"{incident.key} changed meanwhile; look again, then press l to link {change.key}",
                error=True,
            )
            self.load()
            return
        except BackendError as exc:
            app.set_status(f"not linked: {error_message(exc, incident)}", error=True)
            return
        app.remember([updated])
        self.incident = updated
        app.set_status(f"linked {change.key} to {incident.key}")
        self.load()

    def action_pir(self) -> None:
        self._write_pir()

    @work(group="pir", exclusive=True, exit_on_error=False)
    async def _write_pir(self) -> None:
        """Write a post-incident review draft (Markdown) into ``settings.reviews_path()``,
        asking before replacing one that exists, and say where."""
        from console.services.reviews import default_path, write_pir

        app = context(self)
        if self.incident is None:
            app.set_status(self.load_error or "the incident is still loading", error=True)
            return
        path = default_path(self.incident, app.settings.reviews_path())
        if path.exists():
            body = Text(f"{path}\nmay hold edits made since it was written.")
            replace_it = await self.app.push_screen_wait(
                ConfirmScreen(
                    f"Replace the review draft of {self.incident.key}?",
                    body,
                    confirm_label="Replace draft",
                    danger=True,
                )
            )
            if not replace_it:
                app.set_status(f"review draft kept as it was: {path}")
                return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            written = await write_pir(
                app.backend, self.incident.id, path, policy=app.settings.sla, now=app.clock.now()
            )
        except BackendError as exc:
            app.set_status(
                f"review draft not written: {error_message(exc, self.incident)}", error=True
            )
        except OSError as exc:
            app.set_status(f"review draft not written to {path}: {exc.strerror}", error=True)
        else:
            app.set_status(f"review draft for {self.incident.key} written to {written}")
