"""Triage: every mutating key, from the key press to the backend and back to the screen.

The queue and the incident screen call ``await app.triage.run(action_id, targets)`` from a
worker. ``targets`` are the incidents exactly as the user saw them: each action is sent with
that incident's id and version, so a change made meanwhile by someone else is refused by the
backend (``Conflict``) instead of being overwritten. The message then names what changed and the
screens are refreshed with the latest state.

One target: the action's dialog (if any) is the confirmation. Several (marked rows): after the
dialog, a preview names every incident and asks again; each incident is then changed on its
own, a failure does not stop the others, and a summary says what happened to each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import ValidationError
from rich.text import Text
from textual.message import Message
from textual.screen import Screen

from backends.base import (
    BackendError,
    Conflict,
    Forbidden,
    InvalidAction,
    NotFound,
    Unauthorized,
    Unavailable,
)
from console.domain.escalation import paged_at, plan_manual
from console.domain.keys import BY_ID, Key
from console.domain.lifecycle import (
    Acknowledge,
    Action,
    AddNote,
    Assign,
    Cancel,
    Escalate,
    Hold,
    InvalidTransition,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
)
from console.domain.lifecycle import refusal as lifecycle_refusal
from console.domain.models import Incident, NewIncident, Service, Status, choose_priority
from console.domain.rows import IncidentRow
from console.domain.text import clean
from console.tui.context import ConsoleContext
from screens.assign import AssignScreen
from screens.bulk import BulkPreviewScreen
from screens.bulk_summary import BulkSummaryScreen, Outcome
from screens.confirm import ConfirmScreen
from screens.create import CreateScreen
from screens.dialog import incident_line, naming
from screens.hold import HoldScreen, reason_label
from screens.messages import IncidentsChanged
from screens.note import NoteScreen
from screens.priority import PriorityScreen
from screens.reason import ReasonScreen
from screens.resolve import ResolveScreen, code_label

if TYPE_CHECKING:
    from textual.app import App

T = TypeVar("T")


class TriageDone(Message):
    """Posted to every screen on the stack after a triage action ran.

    ``succeeded`` / ``failed`` are incident ids. The queue unmarks the succeeded ones (the
    failed ones stay marked so the user can look at them and try again).
    """

    def __init__(self, action_id: str, succeeded: Sequence[int], failed: Sequence[int]) -> None:
        super().__init__()
        self.action_id = action_id
        self.succeeded = tuple(succeeded)
        self.failed = tuple(failed)


@dataclass
class Plan:
    """What the user chose: the lifecycle action for each incident and how to describe it."""

    what: str
    """Verb phrase for titles and summaries: ``acknowledge``, ``assign to alice``."""
    build: Callable[[Incident], Action]
    done: Callable[[Incident], str]
    """What happened, from the updated incident, for the status line and the summary."""
    confirmed: bool = False
    """The dialog already named every incident and asked; a bulk run needs no preview."""
    detail: str = ""
    typed: str = ""
    """What the user typed into the dialog (``note``, ``resolution note``): after a conflict
    on one incident it is offered again for the current version instead of being lost."""


@dataclass(frozen=True)
class Unsent:
    """What the user typed for an action the server never got (it was away): kept until
    it is sent, or offered again and dropped (``Triage.resend``)."""

    action_id: str
    plan: Plan
    incident: Incident
    """As the user saw it when the send failed."""
    message: str

    @property
    def what(self) -> str:
        return _TYPED_NAMES.get(self.action_id, "text")


_TYPED_NAMES = {
    "note": "note",
    "resolve": "resolution note",
    "hold": "hold note",
    "reopen": "reopen reason",
    "cancel": "cancel reason",
}
"""What the typed text of an action is called on the status line."""


@dataclass
class Request:
    """One run of a targeted action, as its dialog and planner see it."""

    targets: tuple[Incident, ...]
    ctx: ConsoleContext
    now: datetime
    prepared: dict[int, Escalate] = field(default_factory=dict)
    """What the dialog worked out for the planner (escalate: each incident's next step)."""


DialogFactory = Callable[[Request], "Screen[Any] | None"]
"""Builds the dialog that asks what the action needs (``None``: nothing to ask this time)."""
Planner = Callable[[Request, Any], Plan]
"""Turns the dialog's answer (``None`` without a dialog) into the ``Plan``."""


@dataclass(frozen=True)
class TriageAction:
    """One triage action: a ``keys.KEYS`` id (which gives its key, label and help sentence),
    the dialog it opens and the planner that turns the answer into lifecycle actions."""

    id: str
    dialog: DialogFactory | None = None
    planner: Planner | None = None
    perform: Callable[[Triage], Awaitable[None]] | None = None
    """Instead of dialog and planner, for an action without targets (create)."""

    @property
    def key(self) -> Key:
        return BY_ID[self.id]


def _plan_acknowledge(request: Request, answer: None) -> Plan:
    return Plan("acknowledge", lambda i: Acknowledge(), lambda i: "acknowledged")


def _plan_resolve(request: Request, resolve: Resolve) -> Plan:
    detail = f"code: {code_label(resolve.code)}" + (
        f"; note: {clean(resolve.note, limit=60)}" if resolve.note else ""
    )
    return Plan(
        "resolve",
        lambda i: resolve,
        lambda i: f"resolved ({code_label(resolve.code)})",
        detail=detail,
        typed=resolve.note,
    )


def _escalate_dialog(request: Request) -> Screen[Any]:
    """The confirmation shows, per incident, the next level and who it pages."""
    directory = request.ctx.directory
    policies = {p.id: p for p in directory.policies}
    schedules = {s.id: s for s in directory.schedules}
    now = request.now
    targets = request.targets
    body = Text()
    for index, incident in enumerate(targets):
        policy = policies.get(incident.policy or "")
        step, paged = plan_manual(incident, policy, schedules, now)
        request.prepared[incident.id] = Escalate(
            level=step.level, loop=step.loop, paged=tuple(paged)
        )
        if index:
            body.append("\n")
        body.append_text(incident_line(incident))
        if policy is None:
            body.append("\n    no escalation policy: the level goes up, nobody is paged")
            continue
        levels = len(policy.levels)
        now_paged = paged_at(policy, incident.escalation_level, now, schedules)
        body.append(f"\n    now:  level {incident.escalation_level} of {levels}, paging ")
        body.append(", ".join(clean(p) for p in now_paged) or "nobody")
        body.append(f"\n    next: level {step.level} of {levels}")
        if step.level == incident.escalation_level and step.loop == incident.escalation_loop:
            body.append(" again (no level above it)", style="italic")
        elif step.loop != incident.escalation_loop:
            body.append(f" (pass {step.loop + 1})")
        body.append(", paging ")
        who = ", ".join(clean(p) for p in paged) if paged else "nobody (no one on call)"
        body.append(who, style="bold")
    return ConfirmScreen(
        f"Escalate {naming(targets)}?", body, confirm_label="Escalate", danger=True
    )


def _plan_escalate(request: Request, answer: bool) -> Plan:
    steps = request.prepared

    def done(incident: Incident) -> str:
        paged = steps[incident.id].paged
        who = ", ".join(paged) if paged else "nobody"
        return f"escalated to level {incident.escalation_level}, paging {who}"

    return Plan("escalate", lambda i: steps[i.id], done, confirmed=True)


def _priority_dialog(focus: str | None) -> DialogFactory:
    def dialog(request: Request) -> Screen[Any]:
        return PriorityScreen(
            request.targets,
            sla=request.ctx.settings.sla,
            now=request.now,
            focus=focus,  # type: ignore[arg-type]
        )

    return dialog


def _plan_priority(request: Request, chosen: SetPriority) -> Plan:
    return Plan(
        f"set priority (impact {chosen.impact}, urgency {chosen.urgency})",
        lambda i: chosen,
        lambda i: f"priority now {i.priority.value} (impact {i.impact}, urgency {i.urgency})",
        detail=_priority_detail(chosen),
    )


def _assign_dialog(request: Request) -> Screen[Any]:
    directory = request.ctx.directory
    return AssignScreen(request.targets, directory.users, directory.on_call_now())


def _plan_assign(request: Request, assign: Assign) -> Plan:
    who = assign.assignee
    return Plan(
        f"assign to {who}" if who else "unassign",
        lambda i: assign,
        lambda i: f"assigned to {i.assignee}" if i.assignee else "unassigned",
    )


def _plan_note(request: Request, note: AddNote) -> Plan:
    return Plan(
        "add a note",
        lambda i: note,
        lambda i: "note added",
        detail=f"note: {clean(note.text, limit=70)}",
        typed=note.text,
    )


def _hold_dialog(request: Request) -> Screen[Any] | None:
    """Hold toggles: when every target is on hold it resumes them, with nothing to ask."""
    if all(t.status == Status.ON_HOLD for t in request.targets):
        return None
    return HoldScreen(request.targets)


def _plan_hold(request: Request, hold: Hold | None) -> Plan:
    if hold is None:
        return Plan("resume", lambda i: Resume(), lambda i: f"resumed ({i.status.label})")
    return Plan(
        "put on hold",
        lambda i: hold,
        lambda i: f"on hold ({reason_label(hold.reason)})",
        detail=f"reason: {reason_label(hold.reason)}",
        typed=hold.note,
    )


def _reopen_dialog(request: Request) -> Screen[Any]:
    return ReasonScreen(
        f"Reopen {naming(request.targets)}?",
        request.targets,
        confirm_label="Reopen",
        required=False,
        placeholder="what came back",
    )


def _plan_reopen(request: Request, reason: str) -> Plan:
    reopen = Reopen(reason=reason)
    return Plan("reopen", lambda i: reopen, lambda i: "reopened", confirmed=True, typed=reason)


def _cancel_dialog(request: Request) -> Screen[Any]:
    targets = request.targets
    many = len(targets) > 1
    title = f"Cancel {naming(targets)}? (it leaves the queue, no resolution)"
    if many:
        title = f"Cancel these {len(targets)} incidents? (they leave the queue)"
    return ReasonScreen(
        title,
        targets,
        confirm_label="Cancel incident" + ("s" if many else ""),
        required=True,
        placeholder="e.g. opened by mistake, duplicate of INC-7",
        danger=True,
    )


def _plan_cancel(request: Request, reason: str) -> Plan:
    cancel = Cancel(reason=reason)
    return Plan("cancel", lambda i: cancel, lambda i: "cancelled", confirmed=True, typed=reason)


ACTIONS: dict[str, TriageAction] = {
    action.id: action
    for action in (
        TriageAction("acknowledge", planner=_plan_acknowledge),
        TriageAction("resolve", lambda r: ResolveScreen(r.targets), _plan_resolve),
        TriageAction("escalate", _escalate_dialog, _plan_escalate),
        TriageAction("priority", _priority_dialog(None), _plan_priority),
        TriageAction("impact", _priority_dialog("impact"), _plan_priority),
        TriageAction("urgency", _priority_dialog("urgency"), _plan_priority),
        TriageAction("assign", _assign_dialog, _plan_assign),
        TriageAction("note", lambda r: NoteScreen(r.targets), _plan_note),
        TriageAction("hold", _hold_dialog, _plan_hold),
        TriageAction("reopen", _reopen_dialog, _plan_reopen),
        TriageAction("cancel", _cancel_dialog, _plan_cancel),
        TriageAction("create", perform=lambda triage: triage.create()),
    )
}
"""The triage actions by ``keys.KEYS`` id: adding one is one entry here (and its key row)."""


def kind_of(action_id: str, incident: Incident) -> str:
    """The lifecycle action kind a key means for ``incident`` (``hold`` resumes when on hold)."""
    if action_id in ("impact", "urgency"):
        return "priority"
    if action_id == "hold" and incident.status == Status.ON_HOLD:
        return "resume"
    return action_id


def refusal(action_id: str, incident: Incident) -> str | None:
    """Why the lifecycle would refuse this key on ``incident`` as the user saw it, or ``None``."""
    return lifecycle_refusal(incident, kind_of(action_id, incident))


def conflict_message(exc: Conflict, incident: Incident, *, brief: bool = False) -> str:
    """``INC-12 changed since you saw it: acknowledged by bob``: what the user needs to know."""
    key = exc.key or incident.key
    if exc.changed:
        what = "; ".join(clean(item) for item in exc.changed)
        text = f"{key} changed since you saw it: {what}"
    else:
        text = clean(str(exc)) or f"{key} changed since you saw it"
    if brief:  # in a bulk summary, whose hint already says the rest
        return text
    return f"{text}; nothing was changed, the screen shows the latest state"


def error_message(exc: Exception, incident: Incident | None, *, brief: bool = False) -> str:
    """A user-facing sentence for each typed backend error: what happened, what to do."""
    key = incident.key if incident is not None else "the incident"
    if isinstance(exc, Conflict) and incident is not None:
        return conflict_message(exc, incident, brief=brief)
    if isinstance(exc, Unavailable):
        # The backend says best whether anything could have happened (a remote call cut off
        # mid-way may have been applied); without a word from it, nothing was sent.
        return clean(str(exc)) or "not connected, nothing was changed"
    if isinstance(exc, NotFound):
        return f"{key} no longer exists"
    if isinstance(exc, Forbidden | Unauthorized):
        return f"not allowed: {clean(str(exc))}"
    if isinstance(exc, InvalidAction | InvalidTransition):
        return clean(str(exc))
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"invalid input: {first['msg']}"
    return clean(str(exc)) or type(exc).__name__


class Triage:
    """Runs triage actions for the App's screens (see the module docstring)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.ctx: ConsoleContext = cast("ConsoleContext", app)
        self._busy = False
        self.unsent: list[Unsent] = []
        """Typed text the server did not get while it was away, oldest first (``resend``)."""

    # entry point ---------------------------------------------------------------------------
    async def run(self, action_id: str, targets: Sequence[Incident | IncidentRow]) -> None:
        """Ask, confirm, act and report for ``action_id`` over ``targets``.

        Rows (the queue's) are first read in full at the versions they show
        (``ConsoleContext.as_shown``), so the dialogs preview the incident as it was shown and
        the action is sent at that version. Opens modal screens and waits for them, so call
        it from a worker.
        """
        app = self.ctx
        if action_id not in ACTIONS:
            app.set_status(f"unknown action {action_id!r}", error=True)
            return
        if app.refuse_readonly(ACTIONS[action_id].key.description.lower()):
            return
        if self._busy:
            self._error("the previous action is still open or running: finish it first")
            return
        self._busy = True
        try:
            entry = ACTIONS[action_id]
            if entry.perform is not None:
                await entry.perform(self)
                return
            full = await self._as_shown(targets)
            if full is None:
                return
            if app.presence is not None and len(targets) == 1:
                # Others see "you acknowledging…" while the dialog is open, and you are told
                # if someone else already is.
                target = targets[0]
                with app.presence.acting(target.id, target.key, action_id) as warning:
                    if warning:
                        app.set_status(warning, error=True)
                    await self._act(action_id, full)
            else:
                await self._act(action_id, full)
        finally:
            self._busy = False

    async def _as_shown(
        self, targets: Sequence[Incident | IncidentRow]
    ) -> tuple[Incident, ...] | None:
        """The full incidents to act on, or ``None`` (said why) when they cannot be read."""
        try:
            return tuple(await self.ctx.as_shown(targets))
        except BackendError as exc:
            what = targets[0].key if len(targets) == 1 else f"{len(targets)} incidents"
            detail = clean(str(exc)) if isinstance(exc, NotFound) else error_message(exc, None)
            text = f"could not read {what} to act on it: {detail}"
            if "nothing was changed" not in text:
                text += "; nothing was changed"
            self._error(text)
            return None

    # the general path ----------------------------------------------------------------------
    async def _act(self, action_id: str, targets: tuple[Incident, ...]) -> None:
        if not targets:
            self._error("no incident selected: move the cursor to one, or mark some with space")
            return
        refused = [(t, refusal(action_id, t)) for t in targets]
        possible = tuple(t for t, why in refused if why is None)
        skipped = [Outcome(t, False, why) for t, why in refused if why is not None]
        if not possible:
            self._error("; ".join(o.message for o in skipped))
            return
        plan = await self._plan(action_id, possible)
        if plan is None:
            self.ctx.set_status(f"{action_id}: cancelled, nothing was changed")
            return
        bulk = len(targets) > 1
        if bulk and not plan.confirmed:
            detail = plan.detail
            if skipped:
                detail = (detail + "\n" if detail else "") + (
                    f"{len(skipped)} marked incident(s) skipped: "
                    + "; ".join(o.message for o in skipped)
                )
            if not await self._ask(BulkPreviewScreen(plan.what, possible, detail=detail)):
                self.ctx.set_status(f"{plan.what}: cancelled, nothing was changed")
                return
        outcomes = [*skipped, *await self._apply(action_id, plan, possible)]
        await self._report(action_id, plan, outcomes, bulk=bulk)
        if not bulk and outcomes[0].stale and plan.typed:
            await self._offer_again(action_id, plan, outcomes[0])

    async def _offer_again(self, action_id: str, plan: Plan, refused: Outcome) -> None:
        """After a conflict, show what changed and offer the typed text for the current version.

        Nothing is re-sent without the user confirming against the incident as it is now.
        """
        try:
            current = await self.ctx.backend.get_incident(refused.incident.id)
        except BackendError:
            current = None
        if current is None or refusal(action_id, current) is not None:
            # e.g. resolved meanwhile: the conflict stands; keep the text where it can be copied.
            typed = clean(plan.typed, limit=160)
            self._error(f"{refused.message}. What you typed: {typed}")
            return
        await self._send_again(
            action_id,
            plan,
            current,
            lead=refused.message,
            question=f"{current.key} changed since you saw it. {plan.what.capitalize()} anyway?",
        )

    async def _send_again(
        self, action_id: str, plan: Plan, current: Incident, *, lead: str, question: str
    ) -> None:
        """Show ``current`` as it is now beside what the responder typed, and apply ``plan``
        to it only if they confirm (a stale version, or text kept while offline)."""
        body = Text(lead)
        body.append("\n\nAs it is now:\n")
        body.append_text(incident_line(current))
        body.append("\n\nWhat you typed:\n", style="bold")
        body.append(clean(plan.typed, multiline=True, limit=600))
        again = await self._ask(ConfirmScreen(question, body, confirm_label=plan.what.capitalize()))
        if not again:
            self.ctx.set_status(f"{plan.what}: dropped, nothing was changed")
            return
        outcomes = await self._apply(action_id, plan, (current,))
        await self._report(action_id, plan, outcomes, bulk=False)

    async def _apply(
        self, action_id: str, plan: Plan, targets: Sequence[Incident]
    ) -> list[Outcome]:
        app = self.ctx
        outcomes: list[Outcome] = []
        for incident in targets:
            try:
                action = plan.build(incident)
                updated = await app.backend.act(
                    incident.id, action, app.user, expected_version=incident.version
                )
            except (BackendError, InvalidTransition, ValidationError) as exc:
                why = error_message(exc, incident, brief=len(targets) > 1)
                if isinstance(exc, Unavailable) and plan.typed.strip():
                    why += self._keep(action_id, plan, incident, why)
                outcomes.append(Outcome(incident, False, why, stale=isinstance(exc, Conflict)))
            else:
                app.note_own(updated)
                outcomes.append(Outcome(updated, True, plan.done(updated)))
        return outcomes

    # text the server did not get ---------------------------------------------------------
    def _keep(self, action_id: str, plan: Plan, incident: Incident, message: str) -> str:
        """Keep what was typed for ``incident`` (the server was away); the line's ending."""
        self.unsent = [
            u
            for u in self.unsent
            if not (u.incident.id == incident.id and u.plan.typed == plan.typed)
        ]
        entry = Unsent(action_id, plan, incident, message)
        self.unsent.append(entry)
        return f"; your {entry.what} is kept: {self.resend_key} offers it again"

    @property
    def resend_key(self) -> str:
        keys = self.ctx.keymap_ids.get("resend", BY_ID["resend"].keys)
        return keys.split(",")[0].strip()

    def unsent_summary(self) -> str:
        """``your note on INC-1 was not sent; ctrl+r offers it again`` (empty: nothing kept)."""
        if not self.unsent:
            return ""
        first = self.unsent[0]
        more = f" (and {len(self.unsent) - 1} more)" if len(self.unsent) > 1 else ""
        return (
            f"your {first.what} on {first.incident.key}{more} was not sent; "
            f"{self.resend_key} offers it again"
        )

    async def resend(self) -> None:
        """Offer each kept text again, against the incident as it is now: nothing is sent
        without the user confirming; a refused one is dropped with its text on the line."""
        app = self.ctx
        if not self.unsent:
            app.set_status("nothing to send again: every typed text reached the server")
            return
        if self._busy:
            self._error("the previous action is still open or running: finish it first")
            return
        self._busy = True
        try:
            while self.unsent:
                if not await self._resend_one(self.unsent.pop(0)):
                    return
        finally:
            self._busy = False

    async def _resend_one(self, entry: Unsent) -> bool:
        """One kept text; ``False`` when the server is still away (it stays kept)."""
        plan = entry.plan
        typed = clean(plan.typed, limit=160)
        try:
            current = await self.ctx.backend.get_incident(entry.incident.id)
        except Unavailable as exc:
            self.unsent.insert(0, entry)  # still away: keep it, say so, stop here
            self._error(f"{error_message(exc, entry.incident)}; your {entry.what} is still kept")
            return False
        except BackendError as exc:
            failure = error_message(exc, entry.incident)
            self._error(f"{entry.incident.key}: {failure}. What you typed: {typed}")
            return True
        why = refusal(entry.action_id, current) if entry.action_id in ACTIONS else None
        if why is not None:
            self._error(f"{why}; your {entry.what} was not sent. What you typed: {typed}")
            return True
        await self._send_again(
            entry.action_id,
            plan,
            current,
            lead=f"Not sent while the server was away ({current.key}).",
            question=f"Send your {entry.what} to {current.key} now?",
        )
        return True

    async def _report(
        self, action_id: str, plan: Plan, outcomes: list[Outcome], *, bulk: bool
    ) -> None:
        app = self.ctx
        ok = [o for o in outcomes if o.ok]
        failed = [o for o in outcomes if not o.ok]
        await self._refresh(ok, failed)
        self._post(
            TriageDone(action_id, [o.incident.id for o in ok], [o.incident.id for o in failed])
        )
        if not bulk:
            outcome = outcomes[0]
            if outcome.ok:
                app.set_status(f"{outcome.incident.key} {outcome.message}")
            else:
                self._error(outcome.message)
            return
        app.set_status(f"{plan.what}: {len(ok)} done, {len(failed)} failed", error=bool(failed))
        await self._ask(BulkSummaryScreen(plan.what, outcomes))

    async def _refresh(self, ok: Sequence[Outcome], failed: Sequence[Outcome]) -> None:
        """Show the latest state: updated incidents as returned, failed ones re-read."""
        app = self.ctx
        changed = [o.incident for o in ok]
        stale = [o.incident.id for o in failed]
        if stale:
            try:
                changed.extend(await app.backend.get_incidents(stale))
            except BackendError:
                pass  # the error is already reported; the live feed catches up later
        if changed:
            self._post(IncidentsChanged(changed, [i.id for i in changed if not i.is_open]))

    def _post(self, message: Message) -> None:
        for screen in list(self.app.screen_stack):
            if isinstance(screen, Screen):
                screen.post_message(_copy(message))

    # dialogs -------------------------------------------------------------------------------
    async def _ask(self, screen: Screen[T]) -> T | None:
        """Push ``screen`` and wait for its result without blocking the App's message loop."""
        future: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

        def done(result: T | None) -> None:
            if not future.done():
                future.set_result(result)

        await self.app.push_screen(screen, done)
        return await future

    async def _plan(self, action_id: str, targets: tuple[Incident, ...]) -> Plan | None:
        """The registry entry's dialog (if any), then its planner; ``None`` when cancelled."""
        entry = ACTIONS[action_id]
        request = Request(targets, self.ctx, self.ctx.clock.now())
        screen = entry.dialog(request) if entry.dialog is not None else None
        answer: Any = None
        if screen is not None:
            answer = await self._ask(screen)
            if answer is None or answer is False:
                return None
        assert entry.planner is not None  # every targeted action has one (checked in tests)
        return entry.planner(request, answer)

    # create --------------------------------------------------------------------------------
    async def create(self) -> None:
        app = self.ctx
        directory = app.directory
        initial: NewIncident | None = None
        problem = ""
        while True:
            new = await self._ask(
                CreateScreen(
                    directory.services,
                    directory.users,
                    directory.on_call_now(),
                    initial=initial,
                    problem=problem,
                )
            )
            if new is None:
                app.set_status("create: cancelled, nothing was created")
                return
            try:
                if not any(s.id == new.service for s in directory.services):
                    # Only offered on a fresh database (see CreateScreen): the typed
                    # service is created first, so the first incident needs no other tool.
                    await app.backend.put_service(Service(id=new.service, name=new.service))
                created = await app.backend.create_incident(new, app.user)
            except BackendError as exc:
                # Reopen the form with what was typed: a refused create never loses input.
                initial, problem = new, error_message(exc, None)
                self._error(f"create failed: {problem}")
                continue
            app.set_status(f"{created.key} created ({created.priority.value})")
            self._post(IncidentsChanged([created]))
            self._post(TriageDone("create", [created.id], []))
            return

    # messages ------------------------------------------------------------------------------
    def _error(self, text: str) -> None:
        # The App shows errors in the status line, or as a notification where there is none.
        self.ctx.set_status(text, error=True)


def _priority_detail(chosen: SetPriority) -> str:
    result = choose_priority(chosen.impact, chosen.urgency, chosen.priority).priority
    return f"impact {chosen.impact}, urgency {chosen.urgency} -> {result.value}"


def _copy(message: Message) -> Message:
    """A fresh message per screen: a Message instance is consumed by the pump it is posted to."""
    if isinstance(message, IncidentsChanged):
        return IncidentsChanged(message.changed, message.removed)
    if isinstance(message, TriageDone):
        return TriageDone(message.action_id, message.succeeded, message.failed)
    return message
