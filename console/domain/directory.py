"""The directory as code: ``team.toml`` parsed, validated, planned against a store, exported.

A directory file holds five arrays of tables: ``teams``, ``people``, ``schedules`` (with
``layers`` and ``overrides``), ``policies`` (with ``levels``) and ``services``. It is
declarative: the file is the whole directory, so applying it creates what is new, changes
what differs and removes what the file no longer names; applying it twice changes nothing.

Everything here is pure. ``parse`` turns text into a ``Directory`` (or raises
``DirectoryError`` whose problems name the file, line and field), ``check`` finds mistakes
(errors refuse the apply, warnings are reported), ``plan`` compares a store's directory with
the file's and ``render`` writes a directory back as a file, so an export can be applied as
it is and a round trip through a store gives the same text.

tomllib gives no positions, so ``_Locator`` reads the text once to find the line of each
table and key; a problem deeper than that (a field of an inline table) names the line of
the nearest key that holds it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.domain.escalation import handoffs, on_call_detail, shifts
from console.domain.models import (
    Contact,
    Duration,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Incident,
    Override,
    Rotation,
    Schedule,
    Service,
    TargetKind,
    Team,
    User,
    utc,
)
from console.domain.text import Line

Kind = Literal["team", "user", "schedule", "policy", "service"]
KINDS: tuple[Kind, ...] = ("team", "user", "schedule", "policy", "service")
"""In the order a file lists them (and a plan prints them)."""
TABLES: dict[Kind, str] = {
    "team": "teams",
    "user": "people",
    "schedule": "schedules",
    "policy": "policies",
    "service": "services",
}
"""The file's name for each kind (people are ``user`` in the store and the API)."""
FIELDS: dict[Kind, str] = {
    "team": "teams",
    "user": "users",
    "schedule": "schedules",
    "policy": "policies",
    "service": "services",
}
"""The attribute of ``Directory`` (and ``DirectoryChanges``) holding each kind."""
LABELS: dict[Kind, str] = {
    "team": "team",
    "user": "person",
    "schedule": "schedule",
    "policy": "policy",
    "service": "service",
}
CHECK_HORIZON = timedelta(days=14)
"""How far ahead ``check`` looks for gaps in schedules and hidden layers."""
MIN_LENGTH = timedelta(hours=1)
MAX_REPORTED = 3
"""Gaps reported one by one per schedule; more are counted."""

DirectoryItem = Team | User | Schedule | EscalationPolicy | Service


@dataclass(frozen=True, slots=True)
class Directory:
    """People, teams, on-call schedules, escalation policies and services, in file order."""

    teams: tuple[Team, ...] = ()
    users: tuple[User, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    policies: tuple[EscalationPolicy, ...] = ()
    services: tuple[Service, ...] = ()

    def items(self, kind: Kind) -> tuple[DirectoryItem, ...]:
        items: tuple[DirectoryItem, ...] = getattr(self, FIELDS[kind])
        return items

    def by_id(self, kind: Kind) -> dict[str, DirectoryItem]:
        return {item.id: item for item in self.items(kind)}

    def sorted(self) -> Directory:
        """The same directory with every kind ordered by id (how a store lists it)."""
        return Directory(
            teams=tuple(sorted(self.teams, key=_id)),
            users=tuple(sorted(self.users, key=_id)),
            schedules=tuple(sorted(self.schedules, key=_id)),
            policies=tuple(sorted(self.policies, key=_id)),
            services=tuple(sorted(self.services, key=_id)),
        )


def _id(item: DirectoryItem) -> str:
    return item.id


def _fields(groups: Mapping[Kind, Sequence[DirectoryItem]]) -> dict[str, Any]:
    """Keyword arguments for ``Directory`` or ``DirectoryChanges`` from per-kind lists."""
    return {FIELDS[kind]: tuple(items) for kind, items in groups.items()}


# --- problems --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a directory: where (file, line, field) and what."""

    message: str
    field: str = ""
    line: int | None = None
    file: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.field) if p]
        kind = "warning: " if self.warning else ""
        return f"{': '.join(parts)}: {kind}{self.message}" if parts else f"{kind}{self.message}"


class DirectoryError(Exception):
    """The file cannot be applied; ``problems`` says every reason found, each located."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


Path = tuple[str | int, ...]


def field_name(path: Path) -> str:
    """``("people", 2, "email")`` -> ``people[3].email`` (entries counted from 1, as people
    count tables in a file)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else part
    return text


class _Locator:
    """Line numbers of the tables and keys of a TOML text, by path.

    Array-of-tables headers (``[[people]]``, ``[[schedules.layers]]``) are counted, so
    ``("schedules", 1, "layers", 0, "start")`` finds the ``start`` key of the first layer of
    the second schedule. Values spanning several lines (arrays, multi-line strings) are
    skipped over, so a key inside one is never mistaken for a table key.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(
        r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=(.*)$"
    )

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        counts: dict[Path, int] = {}
        current: Path = ()
        pending = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if pending:
                pending = _still_open(pending + "\n" + line)
                continue
            header = self._HEADER.match(line)
            if header:
                parts = _split_key(header.group(2))
                path: Path = ()
                for index, part in enumerate(parts):
                    path = (*path, part)
                    self.lines.setdefault(path, number)
                    last = index == len(parts) - 1
                    if last and header.group(1) == "[[":
                        counts[path] = counts.get(path, 0) + 1
                        path = (*path, counts[path] - 1)
                    elif path in counts:
                        path = (*path, counts[path] - 1)
                current = path
                self.lines.setdefault(current, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.lines.setdefault((*current, *_split_key(key.group(1))), number)
                pending = _still_open(key.group(2))

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of the nearest enclosing key or table that has one."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", text)]


def _still_open(value: str) -> str:
    """``value`` if it leaves an array or a multi-line string open, else ``""``."""
    depth = 0
    index = 0
    while index < len(value):
        char = value[index]
        if value.startswith(('"""', "'''"), index):
            quote = value[index : index + 3]
            close = value.find(quote, index + 3)
            if close < 0:
                return value
            index = close + 3
            continue
        if char in "\"'":
            close = index + 1
            while close < len(value) and value[close] != char:
                close += 2 if char == '"' and value[close] == "\\" else 1
            index = close + 1
            continue
        if char == "#":
            newline = value.find("\n", index)
            if newline < 0:
                break
            index = newline
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
    return value if depth > 0 else ""


# --- the file's shape --------------------------------------------------------------------------

Handle = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSpec(_Spec):
    id: str = Handle
    name: str = Field(min_length=1)


class PersonSpec(_Spec):
    handle: str = Handle
    name: str = Field(min_length=1)
    team: str | None = None
    email: str = ""
    contacts: tuple[Contact, ...] = ()


class LayerSpec(_Spec):
    name: str = ""
    people: tuple[str, ...] = Field(min_length=1)
    start: date | datetime
    """The first hand-off: a date (with ``handoff``), or a date and time; a time without
    an offset is on the schedule's wall clock."""
    handoff: time | None = None
    """The time of day of every hand-off, on the schedule's wall clock (default 00:00)."""
    length: Duration = timedelta(days=7)
    active_hours: tuple[int, int] | None = None

    @field_validator("length")
    @classmethod
    def _long_enough(cls, value: timedelta) -> timedelta:
        if value < MIN_LENGTH:
            raise ValueError("a layer's shifts must last at least 1 hour")
        return value

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(0 <= hour <= 24 for hour in value):
            raise ValueError("active_hours are hours of the day, 0 to 24, e.g. [9, 17]")
        if value is not None and value[0] == value[1]:
            raise ValueError("active_hours must differ (leave it out for all day)")
        return value


class OverrideSpec(_Spec):
    person: str = Field(min_length=1)
    start: datetime
    end: datetime
    by: str = ""


class ScheduleSpec(_Spec):
    id: str = Handle
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    layers: tuple[LayerSpec, ...] = Field(min_length=1)
    overrides: tuple[OverrideSpec, ...] = ()


class LevelSpec(_Spec):
    targets: tuple[str, ...] = Field(min_length=1)
    """``"person:HANDLE"`` or ``"schedule:ID"``."""
    wait: Duration = timedelta(minutes=15)

    @field_validator("wait")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a level must wait longer than zero")
        return value


class PolicySpec(_Spec):
    id: str = Handle
    name: str = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=9)
    levels: tuple[LevelSpec, ...] = Field(min_length=1)


class ServiceSpec(_Spec):
    id: str = Handle
    name: str = Field(min_length=1)
    team: str | None = None
    policy: str | None = None
    auto_resolve: bool = True
    description: str = ""
    depends_on: tuple[str, ...] = ()


_SPECS: dict[Kind, type[_Spec]] = {
    "team": TeamSpec,
    "user": PersonSpec,
    "schedule": ScheduleSpec,
    "policy": PolicySpec,
    "service": ServiceSpec,
}
_TARGET_PREFIX = {"person": TargetKind.USER, "schedule": TargetKind.SCHEDULE}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _layer_start(layer: LayerSpec, zone: ZoneInfo) -> datetime:
    if isinstance(layer.start, datetime):
        start = layer.start
        if layer.handoff is not None:
            start = datetime.combine(start.date(), layer.handoff, start.tzinfo)
        return utc(start if start.tzinfo else start.replace(tzinfo=zone))
    local = datetime.combine(layer.start, layer.handoff or time(0))
    return utc(local.replace(tzinfo=zone))


def _override_time(value: datetime, zone: ZoneInfo) -> datetime:
    return utc(value if value.tzinfo else value.replace(tzinfo=zone))


def _target(text: str) -> EscalationTarget | None:
    prefix, _, ident = text.partition(":")
    kind = _TARGET_PREFIX.get(prefix.strip())
    if kind is None or not ident.strip():
        return None
    return EscalationTarget(kind=kind, id=ident.strip())


def _build(kind: Kind, spec: Any, path: Path, problems: list[Problem]) -> DirectoryItem | None:
    """The domain model for one validated table (``None`` and a problem if it cannot be)."""
    if kind == "team":
        return Team(id=spec.id, name=spec.name)
    if kind == "user":
        return User(
            id=spec.handle, name=spec.name, email=spec.email, team=spec.team, contacts=spec.contacts
        )
    if kind == "service":
        return Service(
            id=spec.id,
            name=spec.name,
            team=spec.team,
            policy=spec.policy,
            auto_resolve=spec.auto_resolve,
            description=spec.description,
            depends_on=spec.depends_on,
        )
    if kind == "policy":
        levels = []
        for index, level in enumerate(spec.levels):
            targets = []
            for t_index, text in enumerate(level.targets):
                target = _target(text)
                if target is None:
                    problems.append(
                        Problem(
                            f'{text!r} is not a target: write "person:HANDLE" or "schedule:ID"',
                            field_name((*path, "levels", index, "targets", t_index)),
                        )
                    )
                else:
                    targets.append(target)
            if targets:
                levels.append(EscalationLevel(targets=tuple(targets), wait=level.wait))
        if len(levels) != len(spec.levels):
            return None
        return EscalationPolicy(
            id=spec.id, name=spec.name, levels=tuple(levels), repeat=spec.repeat
        )
    zone = _zone(spec.timezone)
    if zone is None:
        problems.append(
            Problem(
                f"unknown time zone {spec.timezone!r} (use an IANA name such as "
                '"Europe/Berlin" or "UTC")',
                field_name((*path, "timezone")),
            )
        )
        return None
    overrides = []
    for index, item in enumerate(spec.overrides):
        start, end = _override_time(item.start, zone), _override_time(item.end, zone)
        if end <= start:
            problems.append(
                Problem(
                    "an override must end after it starts",
                    field_name((*path, "overrides", index, "end")),
                )
            )
            continue
        overrides.append(Override(user=item.person, start=start, end=end, by=item.by))
    if len(overrides) != len(spec.overrides):
        return None
    rotations = tuple(
        Rotation(
            name=layer.name,
            users=layer.people,
            start=_layer_start(layer, zone),
            shift=layer.length,
            active_hours=layer.active_hours,
        )
        for layer in spec.layers
    )
    return Schedule(
        id=spec.id,
        name=spec.name,
        timezone=spec.timezone,
        rotations=rotations,
        overrides=tuple(overrides),
    )


def _pydantic_problems(exc: ValidationError, path: Path) -> Iterator[Problem]:
    errors = exc.errors()
    nested = {tuple(e["loc"][:-1]) for e in errors if len(e["loc"]) > 1}
    seen: set[str] = set()
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and any(n[: len(loc)] == loc for n in nested):
            continue  # pydantic's echo of an entry that failed: that entry's error says why
        message = str(error["msg"]).removeprefix("Value error, ")
        if loc and loc[-1] in ("date", "datetime"):
            # a ``date | datetime`` field reports once per member of the union
            loc = loc[:-1]
            message = "write a date (2026-01-05) or a date and time (2026-01-05T09:00:00)"
        elif error["type"] == "extra_forbidden":
            message = "unknown key (a typo?)"
        elif error["type"] == "missing":
            message = "required, but missing"
        name = field_name((*path, *(p for p in loc if isinstance(p, str | int))))
        if name not in seen:
            seen.add(name)
            yield Problem(message, name)


def parse(text: str, filename: str = "team.toml") -> Directory:
    """The directory a file describes, checked (``check``); ``DirectoryError`` names every
    problem found, each with its file, line and field. Warnings do not raise: use
    ``check`` to get them."""
    locator = _Locator(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise DirectoryError([Problem(f"not valid TOML: {exc}", line=line, file=filename)]) from exc
    problems: list[Problem] = []
    known = {table: kind for kind, table in TABLES.items()}
    for key in data:
        if key not in known:
            hint = ", ".join(TABLES.values())
            problems.append(Problem(f"unknown table (a directory file has {hint})", key))
    built: dict[Kind, list[DirectoryItem]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        table = TABLES[kind]
        entries = data.get(table, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.append(Problem(f"write each entry as a [[{table}]] table", table))
            continue
        for index, entry in enumerate(entries):
            path: Path = (table, index)
            try:
                spec = _SPECS[kind].model_validate(entry)
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, path))
                continue
            item = _build(kind, spec, path, problems)
            if item is not None:
                built[kind].append(item)
    if not problems:
        directory = Directory(**_fields(built))
        problems = [p for p in check(directory, None) if not p.warning]
    if problems:
        raise DirectoryError([_located(p, locator, filename) for p in problems])
    return directory


def _located(problem: Problem, locator: _Locator, filename: str) -> Problem:
    path = _path_of(problem.field)
    line = problem.line if problem.line is not None else locator.line(path)
    return Problem(problem.message, problem.field, line, filename, problem.warning)


def _path_of(name: str) -> Path:
    path: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", name):
        path.append(int(part[1:-1]) - 1 if part.startswith("[") else part)
    return tuple(path)


def locate(problems: Iterable[Problem], text: str, filename: str) -> list[Problem]:
    """``problems`` (from ``check`` on a parsed file) with their lines in ``text``."""
    locator = _Locator(text)
    return [_located(p, locator, filename) for p in problems]


# --- checks -----------------------------------------------------------------------------------


def check(directory: Directory, now: datetime | None) -> list[Problem]:
    """Mistakes in a directory, errors first. Fields are named as in the file.

    Errors: duplicate ids, references to nothing, a service without a policy, a loop in
    service dependencies, a policy level none of whose targets can be reached (people with
    no contact method, schedules of such people). Warnings, with ``now`` given: a schedule
    with nobody on call for a while in the next two weeks (each gap's times), a layer that a
    later layer hides completely, two overrides of different people at the same time.
    """
    problems: list[Problem] = []
    ids: dict[Kind, set[str]] = {}
    for kind in KINDS:
        seen: set[str] = set()
        for index, item in enumerate(directory.items(kind)):
            if item.id in seen:
                key = "handle" if kind == "user" else "id"
                problems.append(
                    Problem(
                        f"{LABELS[kind]} {item.id!r} is defined twice",
                        field_name((TABLES[kind], index, key)),
                    )
                )
            seen.add(item.id)
        ids[kind] = seen
    users = {u.id: u for u in directory.users}

    def missing(kind: Kind, ident: str, path: Path) -> None:
        if ident not in ids[kind]:
            known = ", ".join(sorted(ids[kind])) or f"none: add a [[{TABLES[kind]}]] table"
            problems.append(
                Problem(f"no {LABELS[kind]} {ident!r} (known: {known})", field_name(path))
            )

    for index, user in enumerate(directory.users):
        if user.team is not None:
            missing("team", user.team, ("people", index, "team"))
    for index, schedule in enumerate(directory.schedules):
        for l_index, rotation in enumerate(schedule.rotations):
            for p_index, person in enumerate(rotation.users):
                missing("user", person, ("schedules", index, "layers", l_index, "people", p_index))
        for o_index, override in enumerate(schedule.overrides):
            missing("user", override.user, ("schedules", index, "overrides", o_index, "person"))
    schedules = {s.id: s for s in directory.schedules}
    for index, policy in enumerate(directory.policies):
        for l_index, level in enumerate(policy.levels):
            path: Path = ("policies", index, "levels", l_index)
            unknown = False
            for t_index, target in enumerate(level.targets):
                wanted: Kind = "user" if target.kind == TargetKind.USER else "schedule"
                if target.id not in ids[wanted]:
                    unknown = True
                    missing(wanted, target.id, (*path, "targets", t_index))
            if not unknown and not any(_reachable(t, users, schedules) for t in level.targets):
                problems.append(
                    Problem(
                        "no reachable target: nobody it pages has an email or a contact "
                        "(add email = ... or contacts = [...] to the people)",
                        field_name((*path, "targets")),
                    )
                )
    for index, service in enumerate(directory.services):
        if service.team is not None:
            missing("team", service.team, ("services", index, "team"))
        if service.policy is None:
            problems.append(
                Problem(
                    f"service {service.id!r} has no escalation policy: nobody would be paged "
                    "for its incidents (add policy = ...)",
                    field_name(("services", index, "policy")),
                )
            )
        else:
            missing("policy", service.policy, ("services", index, "policy"))
        for d_index, dependency in enumerate(service.depends_on):
            if dependency == service.id:
                problems.append(
                    Problem(
                        "a service cannot depend on itself",
                        field_name(("services", index, "depends_on", d_index)),
                    )
                )
            else:
                missing("service", dependency, ("services", index, "depends_on", d_index))
    problems.extend(_loops(directory.services))
    if now is not None:
        for index, schedule in enumerate(directory.schedules):
            problems.extend(_schedule_warnings(schedule, index, utc(now)))
    return sorted(problems, key=lambda p: p.warning)


def _reachable(
    target: EscalationTarget, users: Mapping[str, User], schedules: Mapping[str, Schedule]
) -> bool:
    if target.kind == TargetKind.USER:
        return users[target.id].reachable
    schedule = schedules[target.id]
    people = {u for r in schedule.rotations for u in r.users} | {o.user for o in schedule.overrides}
    return any(users[p].reachable for p in people if p in users)


def _loops(services: Sequence[Service]) -> list[Problem]:
    """One problem per dependency loop, naming the services around it."""
    graph = {s.id: [d for d in s.depends_on if d != s.id] for s in services}
    index_of = {s.id: i for i, s in enumerate(services)}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[Problem] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                loop = trail[trail.index(nxt) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    where = field_name(("services", index_of[nxt], "depends_on"))
                    found.append(Problem("dependency loop: " + " -> ".join([*loop, nxt]), where))
            elif nxt not in state:
                visit(nxt, trail)
        trail.pop()
        state[node] = 2

    for service in services:
        if service.id not in state:
            visit(service.id, [])
    return found


def _when(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _schedule_warnings(schedule: Schedule, index: int, now: datetime) -> list[Problem]:
    zone = _zone(schedule.timezone) or ZoneInfo("UTC")
    end = now + CHECK_HORIZON
    found: list[Problem] = []
    gaps = [s for s in shifts(schedule, now, end) if s.user is None]
    for gap in gaps[:MAX_REPORTED]:
        found.append(
            Problem(
                f"nobody on call from {_when(gap.start, zone)} to {_when(gap.end, zone)}",
                field_name(("schedules", index, "layers")),
                warning=True,
            )
        )
    if len(gaps) > MAX_REPORTED:
        found.append(
            Problem(
                f"and {len(gaps) - MAX_REPORTED} more gaps in the next {CHECK_HORIZON.days} days",
                field_name(("schedules", index, "layers")),
                warning=True,
            )
        )
    bare = schedule.model_copy(update={"overrides": ()})
    points = handoffs(bare, now, end)
    for l_index, rotation in enumerate(schedule.rotations):
        since = max(now, utc(rotation.start))
        if since >= end:
            continue
        mine = [p for p in points if p >= since] or [since]
        covering = [on_call_detail(bare, p) for p in mine]
        if any(c is not None and c.layer == l_index for c in covering):
            continue
        above = next((c.layer for c in covering if c is not None and c.layer is not None), None)
        if above is None or above <= l_index:
            continue
        hidden = rotation.name or f"layer {l_index + 1}"
        by = schedule.rotations[above].name or f"layer {above + 1}"
        found.append(
            Problem(
                f"layers overlap: {hidden!r} is hidden by {by!r} from {_when(since, zone)} "
                f"on, so its people are never on call (a later layer wins where layers "
                "overlap; give the later one active_hours, or merge them)",
                field_name(("schedules", index, "layers", l_index)),
                warning=True,
            )
        )
    live = [(i, o) for i, o in enumerate(schedule.overrides) if utc(o.end) > now]
    for pos, (_, first) in enumerate(live):
        for j, second in live[pos + 1 :]:
            start, stop = max(first.start, second.start), min(first.end, second.end)
            if start < stop and first.user != second.user:
                found.append(
                    Problem(
                        f"overrides overlap: {first.user} and {second.user} both cover "
                        f"{_when(start, zone)} to {_when(stop, zone)} (the later one wins)",
                        field_name(("schedules", index, "overrides", j)),
                        warning=True,
                    )
                )
    return found


# --- writing a file ---------------------------------------------------------------------------


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes, plus DEL, which TOML forbids raw)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds != value.total_seconds():
        return f"{value.total_seconds()}s"
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _clock(value: time) -> str:
    text = value.strftime("%H:%M")
    if value.second or value.microsecond:
        text = value.isoformat()
    return _string(text)


def _moment(value: datetime, zone: ZoneInfo) -> str:
    """An offset date-time on the schedule's wall clock (TOML's own type, no quotes)."""
    return value.astimezone(zone).isoformat()


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def render(directory: Directory, *, header: str = "") -> str:
    """``directory`` as a file ``parse`` reads back to the same directory. Entries are
    ordered by id, so a file exported from a store after applying this text equals it."""
    directory = directory.sorted()
    out: list[str] = []
    if header:
        out.extend(f"# {line}".rstrip() for line in header.splitlines())
        out.append("")

    def table(name: str) -> None:
        if out and out[-1] != "":
            out.append("")
        out.append(f"[[{name}]]")

    def key(name: str, value: str) -> None:
        out.append(f"{name} = {value}")

    for team in directory.teams:
        table("teams")
        key("id", _string(team.id))
        key("name", _string(team.name))
    for user in directory.users:
        table("people")
        key("handle", _string(user.id))
        key("name", _string(user.name))
        if user.team is not None:
            key("team", _string(user.team))
        if user.email:
            key("email", _string(user.email))
        if user.contacts:
            methods = ", ".join(
                f"{{ kind = {_string(c.kind.value)}, to = {_string(c.to)} }}" for c in user.contacts
            )
            key("contacts", f"[{methods}]")
    for schedule in directory.schedules:
        zone = _zone(schedule.timezone) or ZoneInfo("UTC")
        table("schedules")
        key("id", _string(schedule.id))
        key("name", _string(schedule.name))
        key("timezone", _string(schedule.timezone))
        for rotation in schedule.rotations:
            table("schedules.layers")
            local = rotation.start.astimezone(zone)
            if rotation.name:
                key("name", _string(rotation.name))
            key("people", _strings(rotation.users))
            key("start", local.date().isoformat())
            key("handoff", _clock(local.time()))
            key("length", _string(_duration(rotation.shift)))
            if rotation.active_hours is not None:
                first, last = rotation.active_hours
                key("active_hours", f"[{first}, {last}]")
        for override in schedule.overrides:
            table("schedules.overrides")
            key("person", _string(override.user))
            key("start", _moment(override.start, zone))
            key("end", _moment(override.end, zone))
            if override.by:
                key("by", _string(override.by))
    for policy in directory.policies:
        table("policies")
        key("id", _string(policy.id))
        key("name", _string(policy.name))
        if policy.repeat:
            key("repeat", str(policy.repeat))
        for level in policy.levels:
            table("policies.levels")
            names = (
                f"{'person' if t.kind == TargetKind.USER else 'schedule'}:{t.id}"
                for t in level.targets
            )
            key("targets", _strings(names))
            key("wait", _string(_duration(level.wait)))
    for service in directory.services:
        table("services")
        key("id", _string(service.id))
        key("name", _string(service.name))
        if service.team is not None:
            key("team", _string(service.team))
        if service.policy is not None:
            key("policy", _string(service.policy))
        if not service.auto_resolve:
            key("auto_resolve", "false")
        if service.description:
            key("description", _string(service.description))
        if service.depends_on:
            key("depends_on", _strings(service.depends_on))
    return "\n".join(out) + "\n"


# --- planning -------------------------------------------------------------------------------


class Ref(BaseModel):
    """One directory entry by kind and id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    id: Line


class NewOverride(BaseModel):
    """An override added to one schedule ("take on-call", "swap with" in the console)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: Line
    override: Override


def with_override(schedule: Schedule, override: Override) -> Schedule:
    """``schedule`` with ``override`` added; overrides stay in start order, and among
    overlapping ones the one added last wins (``on_call`` reads them from the end)."""
    merged = (*schedule.overrides, override)
    return schedule.model_copy(update={"overrides": merged})


class DirectoryChanges(BaseModel):
    """What an apply writes, in one transaction: entries to create or replace, and entries
    to remove. What every backend's ``apply_directory`` takes (and the HTTP API carries)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: tuple[Team, ...] = ()
    users: tuple[User, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    policies: tuple[EscalationPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    removed: tuple[Ref, ...] = ()
    overrides: tuple[NewOverride, ...] = ()
    """Overrides to add to stored schedules (read and written inside the transaction, so
    two consoles adding overrides at once both keep theirs)."""

    def puts(self) -> Iterator[tuple[Kind, DirectoryItem]]:
        for kind in KINDS:
            for item in getattr(self, FIELDS[kind]):
                yield kind, item

    @property
    def empty(self) -> bool:
        return not self.removed and not self.overrides and not any(True for _ in self.puts())

    @property
    def only_overrides(self) -> bool:
        """Whether this only adds overrides (what a responder may do; the rest is admin's)."""
        return not self.removed and not any(True for _ in self.puts())


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a plan: ``create``, ``change`` (naming the fields) or ``remove``."""

    action: Literal["create", "change", "remove"]
    kind: Kind
    id: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        sign = {"create": "+", "change": "~", "remove": "-"}[self.action]
        text = f"  {sign} {self.action} {LABELS[self.kind]} {self.id}"
        return f"{text} ({', '.join(self.fields)})" if self.fields else text


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    changes: DirectoryChanges
    kept: tuple[str, ...] = field(default=())
    """Console overrides not in the file that the apply keeps (one line each)."""

    @property
    def empty(self) -> bool:
        return not self.steps

    def summary(self) -> str:
        counts = {
            a: sum(1 for s in self.steps if s.action == a) for a in ("create", "change", "remove")
        }
        return f"{counts['create']} to create, {counts['change']} to change, {counts['remove']} to remove"

    def lines(self) -> list[str]:
        if self.empty:
            out = ["no changes: the store already matches the file"]
        else:
            out = [f"plan: {self.summary()}", *(str(s) for s in self.steps)]
        out.extend(self.kept)
        return out


_FILE_FIELDS = {
    "id": "handle",
    "users": "people",
    "rotations": "layers",
    "shift": "length",
}


def _changed_fields(old: BaseModel, new: BaseModel, kind: Kind) -> tuple[str, ...]:
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    names = [n for n in type(new).model_fields if before.get(n) != after.get(n)]
    if kind == "user":
        return tuple("handle" if n == "id" else n for n in names)
    return tuple(_FILE_FIELDS.get(n, n) if n != "id" else n for n in names)


def _keep_console_overrides(
    desired: Schedule, current: Schedule | None, now: datetime
) -> tuple[Schedule, list[str]]:
    """``desired`` plus the console overrides of ``current`` that have not ended and are
    not in the file: a swap made in the console outlives re-applying the team's file."""
    if current is None:
        return desired, []
    have = {(o.user, o.start, o.end) for o in desired.overrides}
    kept = [
        o
        for o in current.overrides
        if o.by and utc(o.end) > now and (o.user, o.start, o.end) not in have
    ]
    if not kept:
        return desired, []
    zone = _zone(desired.timezone) or ZoneInfo("UTC")
    notes = [
        f"  = keep console override of {desired.id}: {o.user} from {_when(o.start, zone)} to "
        f"{_when(o.end, zone)} (by {o.by}; export the directory to take it into the file)"
        for o in kept
    ]
    merged = tuple(sorted((*desired.overrides, *kept), key=lambda o: (o.start, o.end)))
    return desired.model_copy(update={"overrides": merged}), notes


def plan(current: Directory, desired: Directory, now: datetime) -> Plan:
    """What applying ``desired`` to a store holding ``current`` does."""
    steps: list[Step] = []
    puts: dict[Kind, list[DirectoryItem]] = {kind: [] for kind in KINDS}
    removed: list[Ref] = []
    kept: list[str] = []
    for kind in KINDS:
        have = current.by_id(kind)
        want = desired.by_id(kind)
        for ident, item in sorted(want.items()):
            old = have.get(ident)
            if kind == "schedule":
                item, notes = _keep_console_overrides(item, old, utc(now))  # type: ignore[arg-type]
                kept.extend(notes)
            if old is None:
                steps.append(Step("create", kind, ident))
                puts[kind].append(item)
            elif old != item:
                steps.append(Step("change", kind, ident, _changed_fields(old, item, kind)))
                puts[kind].append(item)
        for ident in sorted(set(have) - set(want)):
            steps.append(Step("remove", kind, ident))
            removed.append(Ref(kind=kind, id=ident))
    changes = DirectoryChanges(**_fields(puts), removed=tuple(removed))
    return Plan(tuple(steps), changes, tuple(kept))


def in_use(changes: DirectoryChanges, open_incidents: Iterable[Incident]) -> list[str]:
    """Why ``changes`` cannot be applied: one line per removed service, person or policy
    that open incidents still use, naming the incidents. Empty when nothing is in use."""
    removed = {(ref.kind, ref.id) for ref in changes.removed}
    users: dict[tuple[Kind, str], list[str]] = {}
    for incident in open_incidents:
        uses: list[tuple[Kind, str | None]] = [
            ("service", incident.service),
            ("user", incident.assignee),
            ("policy", incident.policy),
        ]
        for kind, ident in uses:
            if ident is not None and (kind, ident) in removed:
                users.setdefault((kind, ident), []).append(incident.key)
    lines = []
    for (kind, ident), keys in sorted(users.items()):
        shown = ", ".join(keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
        lines.append(
            f"cannot remove {LABELS[kind]} {ident!r}: open incidents use it ({shown}); "
            "resolve or reassign them first, or keep it in the file"
        )
    return lines


__all__ = [
    "CHECK_HORIZON",
    "KINDS",
    "NewOverride",
    "TABLES",
    "Directory",
    "DirectoryChanges",
    "DirectoryError",
    "Plan",
    "Problem",
    "Ref",
    "Step",
    "check",
    "field_name",
    "in_use",
    "locate",
    "parse",
    "plan",
    "render",
    "with_override",
]
