"""The Textual App: wires one backend, one clock and the settings into the screens.

``make_app`` is the only factory (the CLI and every test use it). The App owns what all
screens share: the incidents it knows (``incidents``), the directory (people, services,
policies, schedules), one 1 Hz clock (``now``) that every countdown follows, the status line
text, and ``triage``. A worker consumes ``backend.watch()``, coalesces bursts, fetches the
changed incidents and posts ``IncidentsChanged`` to every screen on the stack.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from textual import events, work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.message import Message
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import WorkerCancelled, WorkerError, WorkerFailed

from backends import capabilities
from backends.base import Backend, BackendError, ConnectionState, NotFound
from console.domain.changes import ChangeEvent, candidates, dependency_map
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings, login_name
from console.domain.keys import BY_ID, KEYS, MUTATING_ACTIONS, help_for
from console.domain.models import Incident, IncidentQuery
from console.domain.problems import Problem
from console.domain.query import key_of
from console.domain.rows import IncidentRow
from console.domain.text import clean
from console.services.automation import Automation
from console.services.escalator import Escalator
from console.tui.context import ConsoleContext, Directory
from console.tui.presence import PresenceKeeper
from screens.help import HelpScreen
from screens.history import HistoryScreen
from screens.messages import (
    ChangesChanged,
    ConnectionChanged,
    DirectoryChanged,
    IncidentsChanged,
    PresenceChanged,
    ProblemsChanged,
)
from screens.problems import problem_commands
from screens.queue import QueueScreen
from screens.reports import ReportsScreen
from screens.signin import SignInScreen
from screens.triage import Triage
from screens.wall import WallScreen
from widgets.keybindings import display_keys, effective_keys
from widgets.queue_model import SlaTracker

BATCH_WINDOW = 0.06
"""Seconds to wait after a change for more: a burst becomes one fetch and one repaint."""
APPLY_CHUNK = 200
"""Changed incidents fetched and posted per step (the queue model re-keys up to 200 one by
one; more take its merge, a pass over every row held)."""
DIRECTORY_ENTITIES = frozenset({"service", "user", "team", "policy", "schedule"})
FIRST_PAGE = 200
"""Open incidents the first screen is drawn from (more than any terminal shows)."""
PAGE = 1000
"""Open incidents per page behind the first screen: small enough that parsing one page
never holds up a key for long."""
PAGE_OVERLAP = 20
CHANGES_BACK = timedelta(days=7)
"""How far back the console keeps change events for the queue's marker."""
DONE_KEEP = 200
"""Finished (resolved, closed, cancelled) incidents kept in ``app.incidents``."""
INFO_SECONDS = 5.0
"""How long an informational status line stays (long enough to read a sentence twice)."""
ERROR_SECONDS = 30.0
"""How long an error about something that happened once (a refused key, a conflict, a bad
filter) stays; an error about a condition that lasts (the server is away) stays until it is
over instead. 30 s outlasts the feed's longest retry back-off, so an error a retry repeats
never blinks out in between."""
OWN_KEEP = 500
"""Versions this console wrote itself, remembered for the queue's wrong-row check."""
FULL_KEEP = 500
"""Full incidents kept besides the compact rows: the newest ones that came by the first
screen, the change feed or this console's own actions (the likeliest to be opened or acted
on next), so opening or acting on them needs no read; the rest are read when needed."""

HIGH_CONTRAST = Theme(
    name="high-contrast",
    primary="#ffffff",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffff00",
    error="#ff3030",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1c1c1c",
    boost="#262626",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
)
THEMES = {"default": "textual-dark", "high-contrast": "high-contrast"}


class StartupError(Exception):
    """The console cannot start (no database, unreadable or too new schema, server down)."""


NOT_IN_PALETTE = frozenset(
    {"palette", "cursor_down", "cursor_up", "page_down", "page_up", "first", "last"}
)
"""Moving the cursor from the palette would do nothing useful (the palette covers it)."""


class KeysProvider(Provider):
    """The command palette: every action of the current screen, with its key."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app: Any = self.app
        screen = self.screen
        kind = "incident" if type(screen).__name__ == "IncidentScreen" else "queue"
        keymap = app.keymap_ids
        found = []
        for key in KEYS:
            if kind not in key.screens or key.id in NOT_IN_PALETTE:
                continue
            if key.mutating and app.readonly:
                continue
            keys = effective_keys(key, keymap)
            label = f"{key.description}  ({display_keys(keys)})" if keys else key.description
            found.append((label, key.action, help_for(key)))
        return found

    async def _run(self, action: str) -> None:
        await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for label, action, sentence in self._commands():
            yield DiscoveryHit(label, partial(self._run, action), help=sentence)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, action, sentence in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(label), partial(self._run, action), help=sentence
                )


class IncidentKeyProvider(Provider):
    """The palette finds any incident by key (``INC-2039``, ``inc-2039``, ``2039``), open
    or not: choosing it asks the store and opens the incident."""

    async def search(self, query: str) -> Hits:
        key = key_of(query)
        if key is not None:
            yield Hit(
                1.0,
                f"Open {key}",
                partial(self._open, key),
                help="Looks the incident up in the store, open or resolved, and opens it.",
            )

    def _open(self, key: str) -> None:
        # The coroutine is made only when the hit is chosen: one made per search, for a
        # hit never chosen, would be left un-awaited (a RuntimeWarning at collection).
        self.app.run_worker(self._jump(key), group="jump", exclusive=True)

    async def _jump(self, key: str) -> None:
        app = self.app
        queue = next((s for s in app.screen_stack if isinstance(s, QueueScreen)), None)
        if queue is None:
            return
        while app.screen is not queue and len(app.screen_stack) > 2:
            app.pop_screen()
        await queue.open_key(key)


IDLE_BEFORE_COLLECTING = 1.0
"""Seconds without input before the garbage a closed screen left is collected."""
FULL_COLLECTION_AFTER = 100
"""Middle-generation collections before the collector starts a full one (Python's is 10)."""


class IncidentApp(App[None]):
    """The Incident Console."""

    CSS_PATH = "app.tcss"
    TITLE = "Incident Console"
    COMMANDS: ClassVar = App.COMMANDS | {KeysProvider, IncidentKeyProvider}
    BINDINGS: ClassVar = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]
    ENABLE_COMMAND_PALETTE = True

    # ``var``s, not reactives: a reactive on the App repaints the whole screen when it
    # changes (every second for ``now``); what shows them watches them and repaints just
    # that (the queue only the rows whose clock text changed, the status line itself).
    now: var[datetime] = var(datetime.min, init=False)
    status_text: var[str] = var("")
    status_error: var[bool] = var(False)
    connection_text: var[str] = var("")

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock,
        settings: Settings,
        user: str,
        readonly: bool,
        wall: bool = False,
        demo: bool = False,
        readonly_reason: str = "",
    ) -> None:
        super().__init__()
        self.backend = backend
        self.clock = clock
        self.settings = settings
        self.user = user
        self.readonly = readonly
        self.readonly_reason = readonly_reason or "started with --readonly"
        """Why this console cannot change anything (said whenever a change is refused)."""
        self.wall = wall
        self.demo = demo
        self.incidents: dict[int, IncidentRow] = {}
        """Every open incident (and the recently finished ones) as a compact row."""
        self._full: dict[int, Incident] = {}
        """The ``FULL_KEEP`` newest full incidents seen, least recently remembered first."""
        self._done: dict[int, None] = {}
        self._own: dict[int, int] = {}
        """Incident id -> the version this console's own action produced (oldest first)."""
        """Ids of finished incidents in ``incidents``, oldest first (see ``_forget_done``)."""
        self.directory = Directory(clock)
        self.tracker = SlaTracker(settings.sla)
        self.loaded = False
        self.fully_loaded = False
        """Every open incident is held (the pages behind the first screen are in)."""
        self.retimed: set[int] = set()
        """Incidents whose SLA state moved with the last tick (screens re-sort only these)."""
        self.keymap_ids: dict[str, str] = dict(settings.keymap)
        self._connection: ConnectionState = backend.connection
        self._status_expires: datetime | None = None
        self._status_until: Callable[[], bool] | None = None
        self._seq = 0
        self.set_reactive(IncidentApp.now, clock.now())
        self.register_theme(HIGH_CONTRAST)
        self.theme = THEMES.get(settings.theme, "textual-dark")
        self.triage = Triage(self)
        self.escalator: Escalator | Automation | None = None
        """The automatic escalator, when this console runs one (see ``_console``)."""
        self.connect: Connect | None = None
        """Set for a console that starts on the sign-in screen (``incidents web``): opens a
        backend for the token typed there; ``backend`` is a placeholder until then."""
        self.change_events: list[ChangeEvent] = []
        """Recent change events (``CHANGES_BACK``), for the queue's recent-change marker."""
        self.problems: dict[str, Problem] = {}
        """Every problem record by key (``PRB-1``), kept fresh from the change feed, so a
        problem link shows the problem's state now, not the state when it was linked."""
        self.presence: PresenceKeeper | None = self._presence_for(backend)
        """This console's presence, unless the backend keeps none (or this is a wall)."""
        self.input_at = 0.0
        """``time.monotonic()`` of the last key or mouse input."""
        self._collecting: Timer | None = None

    # start-up ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.no_color, "-no-color")
        self.set_class(self.theme == "high-contrast", "-high-contrast")
        if self.keymap_ids:
            self.set_keymap(self.keymap_ids)
        if self.connect is not None:
            self.push_screen(SignInScreen())  # ``start`` runs once a token is accepted
            return
        self.start()

    def start(self) -> None:
        """Show the queue (and the wall) and start the clock and the change feed."""
        if isinstance(self.screen, SignInScreen):
            self.switch_screen(QueueScreen())  # nothing to go back to
        else:
            self.push_screen(QueueScreen())
        if self.wall:
            self.push_screen(WallScreen())
        self.sub_title = self._subtitle()
        self.set_interval(1.0, self.tick, name="clock")
        self.feed()
        if self.demo:
            self.simulate()
        if self.escalator is not None:
            self.run_escalator()
        if self.presence is not None:
            self.run_presence()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.input_at = time.monotonic()
        await super().on_event(event)

    def collect_garbage_when_idle(self) -> None:
        """A closed screen (a dialog, a form) leaves cycles of widgets that only a full
        collection frees; one that the collector starts by itself during a keypress stalls
        it (15 ms at 100,000 open, more with a bigger heap). Collect while the responder
        reads instead: once no input came for ``IDLE_BEFORE_COLLECTING`` seconds, so a burst
        of keys (back to the queue, down, open the next) is never interrupted by it."""
        if self._collecting is None:
            self._collecting = self.set_timer(IDLE_BEFORE_COLLECTING, self._collect_if_idle)

    def _collect_if_idle(self) -> None:
        quiet = time.monotonic() - self.input_at
        if quiet < IDLE_BEFORE_COLLECTING:
            wait = IDLE_BEFORE_COLLECTING - quiet
            self._collecting = self.set_timer(wait, self._collect_if_idle)
            return
        self._collecting = None
        gc.collect()

    async def on_unmount(self) -> None:
        """Stop background work and wait for it, so the change feed's database connection
        is closed while the event loop still runs (Textual cancels workers without waiting)."""
        workers = [w for w in self.workers if w.group in ("feed", "demo", "escalator", "presence")]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with suppress(WorkerCancelled, WorkerFailed, WorkerError):
                await worker.wait()

    def _subtitle(self) -> str:
        parts = [f"as {self.user}", self.backend.description]
        if self.readonly:
            parts.append("read-only")
        if self.demo:
            parts.append("demo")
        return " · ".join(parts)

    async def sign_in(self, token: str) -> None:
        """Connect with ``token`` (``connect``), then start the console as its user and role:
        a viewer token gets the read-only console. Raises the backend's error (wrong token,
        server down) for the sign-in screen to show; nothing changes then."""
        if self.connect is None:
            raise RuntimeError("this console was not started for a sign-in")
        backend = await self.connect(token)
        placeholder, self.backend = self.backend, backend
        self.connect = None
        await placeholder.close()
        identity = capabilities.identity(backend)
        self.user = (identity.user if identity is not None else "") or self.user
        if backend.role == "viewer" and not self.readonly:
            self.readonly = True
            self.readonly_reason = f"signed in with {self.user}'s viewer token"
        self._connection = backend.connection
        self.presence = self._presence_for(backend)  # announced as the signed-in user
        self.start()

    # the clock -----------------------------------------------------------------------------
    def tick(self) -> None:
        """One beat of the app clock: advance SLA states, then let screens repaint."""
        now = self.clock.now()
        changed, newly = self.tracker.advance(now)
        self.retimed = changed
        for incident_id in newly:
            self._announce_breach(incident_id)
        self._check_connection()
        self._expire_status(now)
        self.now = now

    def _check_connection(self) -> None:
        state = self.backend.connection
        if state == self._connection:
            return
        self._connection = state
        self.connection_text = connection_text(state)
        self._post(ConnectionChanged())
        if state.connected and (unsent := self.triage.unsent_summary()):
            # what was typed while the server was away is offered as soon as it is back
            self.set_status(f"connected again: {unsent}", until=lambda: not self.triage.unsent)

    # the change feed -----------------------------------------------------------------------
    @work(exclusive=True, group="feed", exit_on_error=False)
    async def feed(self) -> None:
        """Load what is open, then follow the change feed forever (reconnecting on errors)."""
        delay = 1.0
        while not self.loaded:
            try:
                self._seq = await self.backend.last_seq()
                await self.directory.load(self.backend)
                # The most urgent screenful first, in the store's own order: the first
                # screen costs the same at 1,000 open as at 100,000.
                open_now = await self.backend.list_incidents(IncidentQuery(limit=FIRST_PAGE))
            except BackendError as exc:
                self.set_status(f"cannot load incidents: {exc} (retrying)", error=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            self.remember(open_now, announce=False)
            await self._load_change_events()
            await self._load_problems()
            self.loaded = True
            # Thousands of long-lived incidents would be rescanned by every full garbage
            # collection (a visible stall on a keypress); they are freed by reference count
            # when replaced, so move them out of the collector's way. No collection first:
            # it walked every object of the start-up (~0.2 s before the first screen, at any
            # queue size) to free a few cycles left by it.
            gc.freeze()
            # What the console allocates afterwards (drawn lines, a reused incident screen)
            # is freed by reference count or by the young generations: a full collection
            # finds nothing, yet the collector starts one by itself every ~15 opens and it
            # walks every cached line (15-20 ms at 100,000 open). Start one by itself only
            # ten times as rarely; ``collect_garbage_when_idle`` frees what closed screens
            # leave while the responder reads.
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
            self._post(DirectoryChanged())
            self._post(IncidentsChanged(open_now))
        pager = asyncio.create_task(self._load_the_rest())
        queue: asyncio.Queue[Any] = asyncio.Queue()
        batcher = asyncio.create_task(self._batches(queue))
        try:
            while True:
                try:
                    async for change in self.backend.watch(self._seq):
                        queue.put_nowait(change)
                        self._seq = max(self._seq, change.seq)
                        delay = 1.0
                except BackendError as exc:
                    self.set_status(f"live updates interrupted: {exc} (retrying)", error=True)
                except Exception as exc:  # noqa: BLE001 - a wall must keep its live feed
                    # An unexpected failure (a bug, a library error) must not silently stop
                    # live updates for good: say so and resume from the last change seen.
                    self.set_status(
                        f"live updates failed: {type(exc).__name__}: {exc} (retrying)", error=True
                    )
                # the feed ended or failed: back off, then resume after the last change
                self._check_connection()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        finally:
            for task in (pager, batcher):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task  # let a fetch in flight finish or cancel before the loop ends

    async def _load_the_rest(self) -> None:
        """Page in every other open incident behind the first screen, a page at a time.

        Pages are in creation order (it never changes, unlike urgency, which moves with the
        clock), and each starts ``PAGE_OVERLAP`` rows before the last one ended, so an
        incident resolved meanwhile cannot make the next page skip one that was not. Anything
        that changes while paging is also on the change feed, which started before the first
        page (``remember`` keeps the newest version of each, whichever arrives first).
        """
        # The first screen is painted before any page is parsed on this loop.
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        await painted.wait()
        offset = 0
        delay = 1.0
        query = IncidentQuery(sort="age", limit=PAGE)
        while True:
            try:
                page = await self.backend.list_incidents(
                    query.model_copy(update={"offset": offset})
                )
            except BackendError as exc:
                self.set_status(f"cannot load incidents: {exc} (retrying)", error=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            fresh = [i for i in page if i.id not in self.incidents]
            if fresh:
                self.remember(fresh, announce=False, keep=False)
                gc.freeze()
                self._post(IncidentsChanged([self.incidents[i.id] for i in fresh]))
            last = len(page) < PAGE
            del page, fresh  # the parsed incidents go now, not when the next page comes
            if last:
                break
            offset += PAGE - PAGE_OVERLAP
            await asyncio.sleep(0)  # let keys and live changes in between pages
        self.fully_loaded = True

    async def _batches(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            first = await queue.get()
            await asyncio.sleep(BATCH_WINDOW)
            batch = [first]
            while not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._apply_changes(batch)
            except BackendError as exc:
                self.set_status(f"could not fetch changes: {exc}", error=True)
            except Exception as exc:  # noqa: BLE001 - one bad batch must not end the feed
                self.set_status(f"could not apply changes: {type(exc).__name__}: {exc}", error=True)

    async def _apply_changes(self, changes: Sequence[Any]) -> None:
        ids: set[int] = set()
        directory = False
        recorded = problems = False
        for change in changes:
            if change.entity == "incident":
                try:
                    ids.add(int(change.entity_id))
                except ValueError:
                    continue
            elif change.entity in DIRECTORY_ENTITIES:
                directory = True
            elif change.entity == "change_event":
                recorded = True
            elif change.entity == "problem":
                problems = True
        if problems:
            await self._load_problems()
            self._post(ProblemsChanged())
        if directory:
            await self.directory.load(self.backend)
            self._post(DirectoryChanged())
        if recorded:
            await self._load_change_events()
            self._post(ChangesChanged())
        # A storm's batch is fetched and posted a chunk at a time: each fetch lets keys in,
        # and no single step parses, tracks and re-sorts thousands of incidents on the loop.
        ordered = sorted(ids)
        for start in range(0, len(ordered), APPLY_CHUNK):
            fetched = await self.backend.get_incidents(ordered[start : start + APPLY_CHUNK])
            self.remember(fetched)
            removed = [i.id for i in fetched if not i.is_open]
            self._post(IncidentsChanged(fetched, removed))
        if self.status_error and self.status_text.startswith(("live updates", "could not fetch")):
            self.set_status("live updates resumed")

    def remember(
        self,
        incidents: Iterable[Incident | IncidentRow],
        *,
        announce: bool = True,
        keep: bool = True,
    ) -> None:
        """Take newer versions of incidents (idempotent: an older or equal version is ignored).

        Each is held as a compact ``IncidentRow``; with ``keep`` the full incident is also
        kept among the ``FULL_KEEP`` newest (``full_incident``, ``as_shown``)."""
        fresh: list[IncidentRow] = []
        for incident in incidents:
            known = self.incidents.get(incident.id)
            if known is not None and known.version >= incident.version:
                continue
            if isinstance(incident, Incident):
                if keep:
                    self._keep_full(incident)
                incident = IncidentRow(incident)
            self.incidents[incident.id] = incident
            fresh.append(incident)
            if announce and known is None and incident.is_open and incident.priority.rank <= 2:
                self._alert(
                    f"New {incident.priority.value}: {incident.key} "
                    f"{clean_title(incident.title)} ({incident.service})",
                    severity="error" if incident.priority.rank == 1 else "warning",
                )
        if fresh:
            for incident_id in self.tracker.update(fresh, self.clock.now()):
                if announce:
                    self._announce_breach(incident_id)
        self._forget_done(fresh)

    def _keep_full(self, incident: Incident) -> None:
        self._full.pop(incident.id, None)
        self._full[incident.id] = incident
        if len(self._full) > FULL_KEEP:
            del self._full[next(iter(self._full))]

    def full_incident(self, incident_id: int) -> Incident | None:
        """The newest full incident held for ``incident_id`` (``None``: read it)."""
        held = self._full.get(incident_id)
        row = self.incidents.get(incident_id)
        if held is None or (row is not None and row.version > held.version):
            return None
        return held

    async def as_shown(self, incidents: Sequence[Incident | IncidentRow]) -> list[Incident]:
        """The full incidents behind rows, at the versions the rows show (in their order).

        A row whose incident is held at that version needs no read; the others are read
        from the backend in one call. One that changed since its row was drawn keeps the
        version shown, so an action on it is refused as stale (``Conflict``) and the
        responder sees what changed, as when the console had the full incident. Raises the
        backend's error (``NotFound`` when one no longer exists)."""
        found: dict[int, Incident] = {}
        missing: list[IncidentRow] = []
        for item in incidents:
            if isinstance(item, Incident):
                found[item.id] = item
            elif (held := self._full.get(item.id)) is not None and held.version == item.version:
                found[item.id] = held
            else:
                missing.append(item)
        if missing:
            read = {i.id: i for i in await self.backend.get_incidents([r.id for r in missing])}
            for shown in missing:
                current = read.get(shown.id)
                if current is None:
                    raise NotFound(f"{shown.key} no longer exists")
                if current.version > shown.version:
                    current = current.model_copy(update={"version": shown.version})
                found[shown.id] = current
        return [found[item.id] for item in incidents]

    def note_own(self, incident: Incident) -> None:
        self._own.pop(incident.id, None)
        self._own[incident.id] = incident.version
        if len(self._own) > OWN_KEEP:
            del self._own[next(iter(self._own))]

    def is_own(self, incident: Incident | IncidentRow) -> bool:
        # exact version: a change someone else made after ours is not ours
        return self._own.get(incident.id) == incident.version

    def _forget_done(self, fresh: Iterable[IncidentRow]) -> None:
        """Keep only the ``DONE_KEEP`` most recently finished incidents in memory.

        Resolved ones are not kept live (the recently-resolved view asks the backend), and a
        console or wall that runs for weeks must not hold every incident it ever saw.
        ``_done`` is insertion-ordered, oldest first, so forgetting is O(1) per incident.
        """
        for incident in fresh:
            self._done.pop(incident.id, None)
            if not incident.is_open:
                self._done[incident.id] = None
        if len(self._done) > DONE_KEEP:
            drop = list(itertools.islice(self._done, len(self._done) - DONE_KEEP))
            for incident_id in drop:
                del self._done[incident_id]
                self.incidents.pop(incident_id, None)
                self._full.pop(incident_id, None)
            self.tracker.forget(drop)

    def _announce_breach(self, incident_id: int) -> None:
        incident = self.incidents.get(incident_id)
        if incident is None or not incident.is_open:
            return
        kind = "response" if incident.acknowledged_at is None else "resolution"
        self._alert(
            f"SLA breached: {incident.key} {clean_title(incident.title)} ({kind})",
            severity="error",
        )

    def _alert(self, text: str, *, severity: str) -> None:
        self.notify(text, severity=severity, timeout=8, markup=False)  # type: ignore[arg-type]
        if self.settings.bell:
            self.bell()

    def _post(self, message: Message) -> None:
        """Post a copy of ``message`` to every screen on the stack (each one consumes it)."""
        for screen in list(self.screen_stack):
            screen.post_message(_copy(message))

    # background work -----------------------------------------------------------------------
    @work(exclusive=True, group="demo", exit_on_error=False)
    async def simulate(self) -> None:
        from console.demo.seed import Simulator

        try:
            simulator = Simulator(
                self.backend,
                self.clock,
                self.settings.demo.rate,
                self.settings.demo.seed,
                user=self.user,
            )
            await simulator.run()
        except BackendError as exc:
            self.set_status(f"demo simulator stopped: {exc}", error=True)

    # change events and presence --------------------------------------------------------
    def _presence_for(self, backend: Backend) -> PresenceKeeper | None:
        board = capabilities.presence(backend)
        if board is None or self.wall:
            return None
        return PresenceKeeper(
            board,
            user=self.user,
            clock=self.clock,
            on_change=lambda: self._post(PresenceChanged()),
            on_error=lambda text: self.set_status(text, error=True),
        )

    async def _load_problems(self) -> None:
        try:
            found = await self.backend.problems()
        except BackendError:
            return  # the links keep the state they were made with until the next change
        self.problems = {problem.key: problem for problem in found}

    async def _load_change_events(self) -> None:
        log = capabilities.changes(self.backend)
        if log is None:
            return
        since = self.clock.now() - CHANGES_BACK
        self.change_events = await log.change_events(since=since)

    def recent_change(self, incident: Incident | IncidentRow) -> ChangeEvent | None:
        """The newest change on ``incident``'s service (or a dependency) within
        ``changes.recent`` before it started: the queue marks such incidents."""
        if not self.change_events:
            return None
        found = candidates(
            incident.service,
            incident.created_at,
            self.change_events,
            dependencies=dependency_map(self.directory.services),
            window=self.settings.changes.recent,
        )
        return found[0].change if found else None

    @work(exclusive=True, group="presence", exit_on_error=False)
    async def run_presence(self) -> None:
        if self.presence is not None:
            await self.presence.run()

    @work(exclusive=True, group="escalator", exit_on_error=False)
    async def run_escalator(self) -> None:
        """The automatic escalator (``console.services.escalator``), set by ``_console`` for a local
        SQLite store when ``settings.escalator`` is on, inside ``Automation`` so it runs only
        while this console holds the file's lease; it logs and retries its own errors."""
        if self.escalator is not None:
            await self.escalator.run()

    # the read-only guard -------------------------------------------------------------------
    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every binding and palette command runs through here: a read-only console refuses
        a mutating one (``keys.MUTATING_ACTIONS``) with a line saying why, before any dialog."""
        if self.readonly and isinstance(action, str):
            key_id = MUTATING_ACTIONS.get(action.removeprefix("screen."))
            if key_id is not None:
                self.refuse_readonly(BY_ID[key_id].description.lower())
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def refuse_readonly(self, what: str) -> bool:
        """The one read-only check: ``True`` (and the status line says why) when refused."""
        if not self.readonly:
            return False
        self.set_status(
            f"read-only console ({self.readonly_reason}): {what} is not possible here", error=True
        )
        return True

    # what screens call ---------------------------------------------------------------------
    def set_status(
        self, text: str, error: bool = False, *, until: Callable[[], bool] | None = None
    ) -> None:
        """Show ``text`` on the status line until it expires (``INFO_SECONDS`` for
        information, ``ERROR_SECONDS`` for an error) or, with ``until``, until that condition
        holds (checked on the clock's beat). An error shown while the backend is not
        connected is about the connection: it stays until the connection is back."""
        self.status_text = text
        self.status_error = error
        self._status_expires = None
        self._status_until = None
        if text:
            if until is None and error and not self.backend.connection.connected:
                until = self.is_connected
            if until is not None:
                self._status_until = until
            else:
                seconds = ERROR_SECONDS if error else INFO_SECONDS
                self._status_expires = self.clock.now() + timedelta(seconds=seconds)
        if error and text and not self.screen.query("StatusLine"):
            self.notify(clean(text), severity="error", markup=False)

    def is_connected(self) -> bool:
        return self.backend.connection.connected

    def _expire_status(self, now: datetime) -> None:
        if self._status_until is not None and self._status_until():
            self.set_status("")
        elif self._status_expires is not None and now >= self._status_expires:
            self.set_status("")

    def action_command_palette(self) -> None:
        """Open the palette, unless a triage dialog is open or opening: stacked under or over
        a dialog the palette loses track of its own list and Textual crashes on the next
        key (reproduced with ``p`` then ``:`` pressed together)."""
        busy = any(w.group == "triage" and w.is_running for w in self.workers)
        if busy or isinstance(self.screen, ModalScreen):
            self.set_status("close the open dialog first (esc), then press : again")
            return
        super().action_command_palette()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reports(self) -> None:
        self.push_screen(ReportsScreen())

    def action_resend(self) -> None:
        """``ctrl+r``: offer again what the server did not get while it was away."""
        self.run_worker(self.triage.resend(), group="triage", exit_on_error=False)

    def action_history(self) -> None:
        """``H``: every incident from the backend, a page at a time (``screens.history``)."""
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def action_schedules(self) -> None:
        """The on-call view (``O`` and the palette): who is on call, take or swap on-call."""
        from screens.schedules import SchedulesScreen

        if not isinstance(self.screen, SchedulesScreen):
            self.push_screen(SchedulesScreen())

    def watch_theme(self, theme: str) -> None:
        self.set_class(theme == "high-contrast", "-high-contrast")

    def action_toggle_theme(self) -> None:
        self.theme = "high-contrast" if self.theme != "high-contrast" else "textual-dark"

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[Any]:
        # Of Textual's own commands only Quit means something here (Bell, Keys, Maximize,
        # Screenshot and its theme picker are noise next to the console's commands).
        yield from (c for c in super().get_system_commands(screen) if c.title == "Quit")
        yield SystemCommand(
            "High contrast",
            "Switch between the default and high-contrast theme",
            self.action_toggle_theme,
        )
        yield from problem_commands(self, screen)


def clean_title(title: str) -> str:
    return clean(title, limit=60)


def connection_text(state: ConnectionState) -> str:
    if state.status == "reconnecting":
        return f"reconnecting (attempt {state.attempt})" + (
            f": {state.detail}" if state.detail else ""
        )
    if state.status == "offline":
        since = f" since {state.since:%H:%M}" if state.since else ""
        return f"offline{since}, data may be stale"
    return ""


def _copy(message: Message) -> Message:
    if isinstance(message, IncidentsChanged):
        return IncidentsChanged(message.changed, message.removed)
    return type(message)()


Connect = Callable[[str], Awaitable[Backend]]
"""Opens a backend for a token (the sign-in screen's way in)."""


def make_app(
    backend: Backend,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    user: str | None = None,
    readonly: bool = False,
    wall: bool = False,
    demo: bool = False,
    connect: Connect | None = None,
) -> IncidentApp:
    """Build the console over an open ``backend``: the one factory for the CLI and tests.

    With ``connect``, the console starts on the sign-in screen and ``backend`` is only a
    placeholder (never read) until ``connect(token)`` gives the real one."""
    settings = settings or Settings()
    user = user or settings.user
    if not user:
        user = login_name()
    if wall:
        reason = "wall mode"
    elif readonly:
        reason = "started with --readonly"
    else:
        reason = f"signed in with {user}'s viewer token"
    # Before a sign-in the placeholder's role means nothing: ``sign_in`` takes the token's.
    readonly = readonly or wall or (connect is None and backend.role == "viewer")
    app = IncidentApp(
        backend,
        clock=clock or SystemClock(),
        settings=settings,
        user=user,
        readonly=readonly,
        wall=wall,
        demo=demo,
        readonly_reason=reason,
    )
    app.connect = connect
    return app


def _as_context(app: IncidentApp) -> ConsoleContext:
    """Never called: makes mypy check that ``IncidentApp`` satisfies ``ConsoleContext``."""
    return app
