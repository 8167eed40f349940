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


KEYS: tuple[Key, ...] = (
    Key("cursor_down", "j,down", "cursor_down", "Down", screens=("queue",)),
    Key("cursor_up", "k,up", "cursor_up", "Up", screens=("queue",)),
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
        "l",
        "link_change",
        "Link the highlighted change",
        mutating=True,
        screens=("changes",),
    ),
    Key("palette", "colon", "app.command_palette", "Commands", screens=("queue", "incident")),
    Key("help", "question_mark", "app.help", "Help", footer=True),
    Key("quit", "q", "app.quit", "Quit", footer=True),
)

BY_ID = {key.id: key for key in KEYS}
MUTATING = frozenset(key.id for key in KEYS if key.mutating)
MUTATING_ACTIONS = {key.action: key.id for key in KEYS if key.mutating}
"""Action strings (``triage('acknowledge')``, ``resolve_problem``) -> key id: what the
read-only guard refuses."""
