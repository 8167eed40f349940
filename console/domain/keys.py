"""Every key binding of the console, as data with ids.

The ids are what the config keymap remaps (``[keymap] acknowledge = "A"``), what the help
screen and the command palette list, and what ``--readonly`` uses to hide mutating keys.
Screens build their Textual ``Binding`` objects from this table, so there is one list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    keys: str
    """Textual key names, comma-separated; empty for a command reached from the palette only."""
    action: str
    description: str
    mutating: bool = False
    footer: bool = False
    """Shown in the footer (the main keys); every key is in help and the palette."""
    screens: tuple[str, ...] = ("queue", "incident")


HELP: dict[str, str] = {
    "cursor_down": "Move the cursor to the next incident.",
    "cursor_up": "Move the cursor to the previous incident.",
    "page_down": "Move the cursor one screen down.",
    "page_up": "Move the cursor one screen up.",
    "first": "Move the cursor to the first incident.",
    "last": "Move the cursor to the last incident.",
    "open": "Open the incident under the cursor: details, SLA clocks, alerts and timeline.",
    "back": "Go back to the queue.",
    "acknowledge": "Acknowledge: you are on it; stops the response clock and takes it if unowned.",
    "resolve": "Resolve with a resolution code and an optional note.",
    "escalate": "Page the next level of the escalation policy (the dialog names who).",
    "priority": "Set impact and urgency; the ITIL matrix gives the priority.",
    "impact": "Set the impact (how many are hurt); the priority follows.",
    "urgency": "Set the urgency (how fast it must be fixed); the priority follows.",
    "assign": "Give the incident to a person (on-call people are marked).",
    "note": "Add a note to the timeline.",
    "hold": "Put on hold with a reason (the SLA clocks pause), or resume if on hold.",
    "reopen": "Reopen a resolved incident, saying what came back.",
    "cancel": "Cancel an incident opened by mistake (it leaves the queue, no resolution).",
    "create": "Open a new incident by hand.",
    "resend": "Offer again a note or reason the server did not get while it was away.",
    "copy_key": "Copy the incident's key to the clipboard (OSC 52: works over SSH and tmux).",
    "open_link": "Open the incident's first link (runbook, alert source) in the browser; "
    "over SSH, show it as a terminal hyperlink.",
    "mark": "Mark or unmark the incident for a bulk action, and move down.",
    "mark_all": "Mark every incident in this view.",
    "clear_marks": "Clear every mark.",
    "filter": "Filter the queue: keys, p1..p5, svc:, @user, status:, breached, words.",
    "sort": "Cycle the sort order (urgency, priority, SLA, updated, ...).",
    "view_all": "Show every open incident.",
    "view_mine": "Show the incidents assigned to you.",
    "view_unassigned": "Show the incidents nobody owns.",
    "view_breaching": "Show incidents past or near their SLA target.",
    "view_resolved": "Show incidents resolved in the last 24 hours.",
    "view_triggered": "Show the incidents nobody has acknowledged yet, most urgent first.",
    "view_breached": "Show the incidents past an SLA target (a late acknowledgement counts).",
    "history": "Page through every incident, resolved ones too, with the same filter.",
    "reports": "Open the KPI reports (MTTA, MTTR, SLA met, per day).",
    "schedules": "Show who is on call now and the schedules.",
    "pir": "Write a post-incident review draft (Markdown) and say where.",
    "public_update": "Publish the incident on the status page or post an update to it.",
    "create_problem": "Open a problem record for the underlying cause, linked to this incident.",
    "link_problem": "Link this incident to a problem that is already open (pick it from a list).",
    "resolve_problem": "Resolve the problem under the cursor, then offer its waiting incidents.",
    "explain": "Show why the alerts joined this incident and why it has its priority.",
    "link_change": "Link the highlighted change to this incident (a timeline entry says so).",
    "palette": "Open the command palette: every command, and any incident by key.",
    "help": "Show this help.",
    "quit": "Quit the console.",
}
"""One sentence per key id for ``?`` help and the palette (the footer keeps the short label)."""


KEYS: tuple[Key, ...] = (
    Key("cursor_down", "j,down", "cursor_down", "Down", screens=("queue",)),
    Key("cursor_up", "k,up", "cursor_up", "Up", screens=("queue",)),
    Key("page_down", "pagedown", "page_down", "Page down", screens=("queue",)),
    Key("page_up", "pageup", "page_up", "Page up", screens=("queue",)),
    Key("first", "home,g", "first", "First", screens=("queue",)),
    Key("last", "end,G", "last", "Last", screens=("queue",)),
    Key("open", "enter", "open", "Open", footer=True, screens=("queue",)),
    Key("back", "escape", "back", "Back", footer=True, screens=("incident",)),
    Key("acknowledge", "a", "triage('acknowledge')", "Ack", mutating=True, footer=True),
    Key("resolve", "r", "triage('resolve')", "Resolve", mutating=True, footer=True),
    Key("escalate", "e", "triage('escalate')", "Escalate", mutating=True, footer=True),
    Key("priority", "p", "triage('priority')", "Priority", mutating=True, footer=True),
    Key("impact", "i", "triage('impact')", "Impact", mutating=True),
    Key("urgency", "u", "triage('urgency')", "Urgency", mutating=True),
    Key("assign", "o", "triage('assign')", "Assign", mutating=True, footer=True),
    Key("note", "n", "triage('note')", "Note", mutating=True),
    Key("hold", "h", "triage('hold')", "Hold/resume", mutating=True),
    Key("reopen", "R", "triage('reopen')", "Reopen", mutating=True),
    Key("cancel", "x", "triage('cancel')", "Cancel incident", mutating=True),
    Key("create", "c", "triage('create')", "Create", mutating=True, footer=True),
    Key("resend", "ctrl+r", "app.resend", "Send again what was not sent", mutating=True),
    Key("copy_key", "y", "copy_key", "Copy key"),
    Key("open_link", "l", "open_link", "Open link"),
    Key("mark", "space", "mark", "Mark", footer=True, screens=("queue",)),
    Key("mark_all", "ctrl+a", "mark_all", "Mark all visible", screens=("queue",)),
    Key("clear_marks", "ctrl+u", "clear_marks", "Clear marks", screens=("queue",)),
    Key("filter", "slash", "filter", "Filter", footer=True, screens=("queue",)),
    Key("sort", "s", "cycle_sort", "Sort", screens=("queue",)),
    Key("view_all", "1", "view('all')", "View: all open", screens=("queue",)),
    Key("view_mine", "2", "view('mine')", "View: mine", screens=("queue",)),
    Key("view_unassigned", "3", "view('unassigned')", "View: unassigned", screens=("queue",)),
    Key("view_breaching", "4", "view('breaching')", "View: breaching", screens=("queue",)),
    Key("view_resolved", "5", "view('resolved')", "View: recently resolved", screens=("queue",)),
    Key("view_triggered", "6", "view('triggered')", "View: triggered", screens=("queue",)),
    Key("view_breached", "7", "view('breached')", "View: breached", screens=("queue",)),
    Key("history", "H", "app.history", "History (every incident)", screens=("queue", "incident")),
    Key("reports", "K", "app.reports", "Reports (KPIs)", screens=("queue",)),
    Key("schedules", "O", "app.schedules", "On call and schedules", screens=("queue", "incident")),
    Key("pir", "P", "pir", "Post-incident review", screens=("incident",)),
    Key(
        "public_update",
        "U",
        "public_update",
        "Public update (status page)",
        mutating=True,
        screens=("incident",),
    ),
    Key(
        "create_problem",
        "",
        "create_problem",
        "Create a problem from this incident",
        mutating=True,
        screens=("incident",),
    ),
    Key(
        "link_problem",
        "",
        "link_problem",
        "Link this incident to an open problem",
        mutating=True,
        screens=("incident",),
    ),
    Key(
        "resolve_problem",
        "r",
        "resolve_problem",
        "Resolve problem",
        mutating=True,
        screens=("problems",),
    ),
    Key("explain", "w", "explain", "Why (grouping, priority)", screens=("incident",)),
    Key(
        "link_change",
        "L",
        "link_change",
        "Link the highlighted change",
        mutating=True,
        screens=("changes",),
    ),
    Key(
        "palette",
        "colon,ctrl+p",
        "app.command_palette",
        "Commands",
        screens=("queue", "incident"),
    ),
    Key("help", "question_mark", "app.help", "Help", footer=True),
    Key("quit", "q", "app.quit", "Quit", footer=True),
)

BY_ID = {key.id: key for key in KEYS}


def help_for(key: Key) -> str:
    """The key's one-sentence description (its label where none is written)."""
    return HELP.get(key.id, key.description)


MUTATING = frozenset(key.id for key in KEYS if key.mutating)
MUTATING_ACTIONS = {key.action: key.id for key in KEYS if key.mutating}
"""Action strings (``triage('acknowledge')``, ``resolve_problem``) -> key id: what the
read-only guard refuses."""
