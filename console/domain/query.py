"""The queue's filter language: what a responder types after ``/``.

::

    p1 p2                 priority P1 or P2
    INC-2039 inc-2039     one incident by its key; a bare 2039 finds it too (or the number
                          in the text); several keys or bare numbers are OR-ed
    svc:check             service by prefix (``service:`` works too); several are OR-ed
    @alice  @me           assignee (``@me`` is whoever runs the console)
    unassigned            nobody assigned
    status:ack            triggered / ack / hold / resolved / closed / cancelled / open / all
                          (a typed status replaces the view's, in every view)
    breached              an SLA clock is past its target (``sla.is_breached``: a
                          response acknowledged late stays breached)
    breaching             breached, or in the warning band (about to breach)
    "disk full" db        free text on the title, service, assignee and labels; every term
                          must appear in one of them (quotes keep a phrase)

Terms of one kind are OR-ed (``p1 p2``), different kinds are AND-ed (``p1 svc:db``).
``parse`` turns text into a ``Filter``, which both narrows a backend query (``to_query``) and
checks one incident on the client (``matches``) so the live queue can apply it to changes.
Pure: no I/O, no Textual.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from console.domain.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    IncidentQuery,
    Priority,
    SortKey,
    Status,
)
from console.domain.sla import SlaFacts, SlaPolicy, SlaState, queue_state


class FilterFacts(SlaFacts, Protocol):
    """What ``Filter.matches`` reads of an incident: a full ``Incident`` or the console's
    compact ``IncidentRow`` (``console.domain.rows``)."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


class QueryError(ValueError):
    """The filter text cannot be understood; the message says which token and what works."""


STATUS_WORDS: dict[str, frozenset[Status]] = {
    "triggered": frozenset({Status.TRIGGERED}),
    "new": frozenset({Status.TRIGGERED}),
    "ack": frozenset({Status.ACKNOWLEDGED}),
    "acked": frozenset({Status.ACKNOWLEDGED}),
    "acknowledged": frozenset({Status.ACKNOWLEDGED}),
    "hold": frozenset({Status.ON_HOLD}),
    "on_hold": frozenset({Status.ON_HOLD}),
    "onhold": frozenset({Status.ON_HOLD}),
    "resolved": frozenset({Status.RESOLVED}),
    "closed": frozenset({Status.CLOSED}),
    "cancelled": frozenset({Status.CANCELLED}),
    "canceled": frozenset({Status.CANCELLED}),
    "open": OPEN_STATUSES,
    "done": DONE_STATUSES,
    "all": frozenset(Status),
}
_PREFIXES = ("svc:", "service:", "status:")
_KEY = re.compile(r"(?:inc-)?(\d{1,12})")
_PREFIXED_KEY = re.compile(r"inc-(\d{1,12})")
HELP = (
    "INC-N, p1..p5, svc:NAME, @user, @me, unassigned, "
    "status:ack|triggered|hold|resolved|open|all, breached, breaching, or words of the title, "
    'service, assignee or labels ("quoted phrase")'
)


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter. Empty fields do not narrow anything."""

    priorities: frozenset[Priority] = frozenset()
    services: frozenset[str] = frozenset()
    assignees: frozenset[str] = frozenset()
    """User ids; the literal ``@me`` stands for the console's user until ``matches``."""
    unassigned: bool = False
    statuses: frozenset[Status] = OPEN_STATUSES
    breached: bool = False
    breaching: bool = False
    text: tuple[str, ...] = ()
    """Lower-cased terms that must each appear in the title, service, assignee or labels."""
    keys: frozenset[str] = frozenset()
    """Incident keys, upper-cased (``INC-2039``); several are OR-ed."""
    resolved_within: timedelta | None = None
    """Only incidents resolved (or closed) this recently: the "recently resolved" view."""
    source: str = field(default="", compare=False)

    @property
    def is_empty(self) -> bool:
        return self == Filter()

    @property
    def time_dependent(self) -> bool:
        """Whether the result changes as time passes without any data changing."""
        return self.breached or self.breaching or self.resolved_within is not None

    def combine(self, other: Filter) -> Filter:
        """Both filters at once (a view plus what the user typed)."""
        # a typed status: replaces the view's (status:resolved works from view 1 too); a typed
        # filter without one keeps the view's
        statuses = self.statuses if other.statuses == OPEN_STATUSES else other.statuses
        return Filter(
            priorities=self.priorities | other.priorities,
            services=self.services | other.services,
            assignees=self.assignees | other.assignees,
            unassigned=self.unassigned or other.unassigned,
            statuses=statuses,
            breached=self.breached or other.breached,
            breaching=self.breaching or other.breaching,
            text=self.text + other.text,
            keys=self.keys | other.keys,
            resolved_within=self.resolved_within or other.resolved_within,
            source=" ".join(part for part in (self.source, other.source) if part),
        )

    def matches(
        self,
        incident: FilterFacts,
        now: datetime,
        sla_policy: SlaPolicy,
        me: str | None,
        *,
        sla_state: SlaState | None = None,
    ) -> bool:
        """Whether ``incident`` passes at ``now``.

        ``sla_state`` (the active clock's state) may be passed by callers that already know
        it, so a queue of thousands does not recompute every clock.
        """
        if incident.status not in self.statuses:
            return False
        if self.priorities and incident.priority not in self.priorities:
            return False
        if self.keys and incident.key.upper() not in self.keys:
            return False
        if self.services:
            service = incident.service.lower()
            if not any(service.startswith(prefix) for prefix in self.services):
                return False
        if self.assignees or self.unassigned:
            wanted = {(me or "").lower() if name == "@me" else name for name in self.assignees}
            hit = (self.unassigned and incident.assignee is None) or (
                incident.assignee is not None and incident.assignee.lower() in wanted
            )
            if not hit:
                return False
        if self.text:
            haystack = searchable(incident)
            # a bare number is also the key: 2039 finds INC-2039 (and "error 2039"); several
            # bare numbers are OR-ed like keys ("2036 2037 2038" lists three incidents)
            numbers = [term for term in self.text if term.isdigit()]
            if numbers and not any(
                incident.key == f"INC-{int(term)}" or term in haystack for term in numbers
            ):
                return False
            for term in self.text:
                if not term.isdigit() and term not in haystack:
                    return False
        if self.resolved_within is not None:
            done_at = incident.resolved_at or incident.closed_at
            if done_at is None or done_at < now - self.resolved_within:
                return False
        if self.breached or self.breaching:
            state = sla_state
            if state is None:
                state = queue_state(incident, now, sla_policy)
            if self.breached and state != SlaState.BREACHED:
                return False
            if self.breaching and state not in (SlaState.BREACHED, SlaState.WARNING):
                return False
        return True

    def to_query(
        self, me: str | None, now: datetime, sort: SortKey = "urgency", limit: int = 500
    ) -> IncidentQuery:
        """The backend query that returns (at least) what this filter selects.

        ``breaching`` has no backend field, so it is left to ``matches`` on what comes back
        (as is everything else too: ``matches`` is the definition, the query narrows).
        """
        named = {me if name == "@me" else name for name in self.assignees}
        assignees: list[str | None] = [*sorted(name for name in named if name is not None)]
        if self.unassigned:
            assignees.append(None)
        statuses = tuple(sorted(self.statuses, key=list(Status).index))
        return IncidentQuery(
            statuses=statuses,
            priorities=tuple(sorted(self.priorities, key=lambda p: p.rank)),
            assignees=tuple(assignees),
            breached=True if self.breached else None,
            resolved_since=None if self.resolved_within is None else now - self.resolved_within,
            keys=tuple(sorted(self.keys)),
            service_prefixes=tuple(sorted(self.services)),
            terms=self.text,
            sort=sort,
            limit=limit,
        )


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split on whitespace, keeping quoted phrases together; each token says if it was quoted."""
    tokens: list[tuple[str, bool]] = []
    current: list[str] = []
    quote: str | None = None
    for char in text:
        if quote is not None:
            if char == quote:
                tokens.append(("".join(current), True))
                current, quote = [], None
            else:
                current.append(char)
        elif char in "\"'" and not current:
            quote = char
        elif char.isspace():
            if current:
                tokens.append(("".join(current), False))
                current = []
        else:
            current.append(char)
    if quote is not None:
        raise QueryError(f"unclosed {quote} in the filter: close the phrase with {quote}")
    if current:
        tokens.append(("".join(current), False))
    return tokens


def parse(text: str) -> Filter:
    """Parse filter text; raise ``QueryError`` naming the first token that makes no sense."""
    priorities: set[Priority] = set()
    services: set[str] = set()
    assignees: set[str] = set()
    statuses: set[Status] = set()
    text_terms: list[str] = []
    keys: set[str] = set()
    unassigned = breached = breaching = False
    for token, quoted in _tokens(text):
        word = token.lower()
        if quoted:
            if word.strip():
                text_terms.append(word)
            continue
        if key := _PREFIXED_KEY.fullmatch(word):
            keys.add(f"INC-{int(key.group(1))}")
        elif len(word) == 2 and word[0] == "p" and word[1] in "12345":
            priorities.add(Priority(word.upper()))
        elif word.startswith("@"):
            name = word[1:]
            if not name:
                raise QueryError("'@' needs a user after it: @alice, or @me for yourself")
            assignees.add("@me" if name == "me" else name)
        elif word == "unassigned":
            unassigned = True
        elif word == "breached":
            breached = True
        elif word == "breaching":
            breaching = True
        elif word.startswith(_PREFIXES):
            prefix, _, value = word.partition(":")
            if not value:
                example = "svc:checkout" if prefix != "status" else "status:ack"
                raise QueryError(f"'{prefix}:' needs a value after it, e.g. {example}")
            if prefix == "status":
                for part in value.split(","):
                    if part not in STATUS_WORDS:
                        known = ", ".join(sorted(STATUS_WORDS))
                        raise QueryError(f"unknown status {part!r}; use one of: {known}")
                    statuses |= STATUS_WORDS[part]
            else:
                services.update(part for part in value.split(",") if part)
        elif ":" in word and not word.endswith(":") and word.split(":", 1)[0].isalpha():
            prefix = word.split(":", 1)[0]
            raise QueryError(
                f"unknown filter '{prefix}:'; filters are svc:NAME and status:STATE "
                '(quote it to search the title: "' + token + '")'
            )
        elif word.endswith(":") and word[:-1].isalpha():
            raise QueryError(f"'{word}' needs a value after it; known: svc:NAME, status:STATE")
        else:
            text_terms.append(word)
    return Filter(
        priorities=frozenset(priorities),
        services=frozenset(services),
        assignees=frozenset(assignees),
        unassigned=unassigned,
        statuses=frozenset(statuses) if statuses else OPEN_STATUSES,
        breached=breached,
        breaching=breaching,
        text=tuple(text_terms),
        keys=frozenset(keys),
        source=text.strip(),
    )


def searchable(incident: FilterFacts) -> str:
    """What free text matches: the title, service, assignee and labels, lower-cased (the
    stores keep it in a column, so a history query filters by it without parsing JSON)."""
    return search_text(incident.title, incident.service, incident.assignee, incident.labels)


def search_text(title: str, service: str, assignee: str | None, labels: Mapping[str, str]) -> str:
    """``searchable`` from the fields themselves (a store's migration has no model)."""
    joined = " ".join(f"{k}={v}" for k, v in labels.items())
    return f"{title}\n{service}\n{assignee or ''}\n{joined}".lower()


def key_of(text: str) -> str | None:
    """``INC-2039`` for ``INC-2039``, ``inc-2039`` or ``2039``; ``None`` for anything else."""
    found = _KEY.fullmatch(text.strip().lower())
    return f"INC-{int(found.group(1))}" if found else None


@dataclass(frozen=True, slots=True)
class View:
    """A saved view on a number key."""

    id: str
    label: str
    filter: Filter


RESOLVED_WINDOW = timedelta(hours=24)

VIEWS: dict[str, View] = {
    "all": View("all", "all open", Filter()),
    "mine": View("mine", "mine", Filter(assignees=frozenset({"@me"}))),
    "unassigned": View("unassigned", "unassigned", Filter(unassigned=True)),
    "breaching": View("breaching", "breaching", Filter(breaching=True)),
    "resolved": View(
        "resolved",
        "recently resolved",
        replace(
            Filter(),
            statuses=frozenset({Status.RESOLVED, Status.CLOSED}),
            resolved_within=RESOLVED_WINDOW,
        ),
    ),
    # triage in two keys: "6 a" acknowledges the most urgent incident nobody answered
    # (view 3 misses the assigned ones), "7" lists the breached ones ("7 /p1 p2")
    "triggered": View(
        "triggered", "triggered", replace(Filter(), statuses=frozenset({Status.TRIGGERED}))
    ),
    "breached": View("breached", "breached", Filter(breached=True)),
}
