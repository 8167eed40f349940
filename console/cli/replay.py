"""``incidents replay alerts.jsonl [--config new.toml]``: try intake rules before they page.

Each line of the file is one recorded body: an Alertmanager webhook (version 4) or an Events
v2 event, either bare or wrapped as ``{"integration": "ID", "body": {...}}`` (a bare
Alertmanager body carries no key, so it goes to ``--integration`` or, when there is just
one, the store's only Alertmanager integration; an Events body names its integration by its
``routing_key``).

The bodies run through the real intake (the same parsing with the intake rules of
``--config``, the same planning and the same store code as ``incidents serve``) against a
throw-away copy of the store, made with SQLite's online backup, so the store itself is never
written. What each line would do is printed: which incidents would open and at what
priority, which would take a repeat, be acknowledged or resolved, and what would be dropped
or refused and why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import BackendError
from backends.sqlite.store import SqliteBackend
from console.domain.config import Settings
from console.domain.intake import IntakeError, Integration, parse_alertmanager, parse_event


class ReplayError(Exception):
    """The replay cannot start (no store, unreadable file); the message says what to do."""


@dataclass(slots=True)
class Decision:
    """What one recorded body would do."""

    line: int
    kind: str
    refused: str = ""
    opened: list[str] = field(default_factory=list)
    """``INC-7 P1 title`` for each incident the body would open."""
    outcomes: list[str] = field(default_factory=list)
    """``repeated abc123 on INC-7`` / ``resolved ... `` / ``dropped ...: reason``."""

    def lines(self) -> list[str]:
        head = f"line {self.line} ({self.kind})"
        if self.refused:
            return [f"{head}: refused: {self.refused}"]
        return (
            [f"{head}:"]
            + [f"  open {item}" for item in self.opened]
            + [f"  {item}" for item in self.outcomes]
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "kind": self.kind,
            "refused": self.refused,
            "opened": self.opened,
            "outcomes": self.outcomes,
        }


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{path} is not UTF-8 text (one JSON body per line)") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, IntakeError(f"not JSON ({exc.msg} at column {exc.colno})")


def _kind(body: Any) -> str:
    if isinstance(body, dict) and "groupKey" in body and "alerts" in body:
        return "alertmanager"
    if isinstance(body, dict) and "event_action" in body:
        return "events"
    return "unknown"


def copy_store(source: Path, folder: Path) -> Path:
    """A consistent copy of the SQLite file at ``source`` (readers and writers may be busy)."""
    target = folder / "replay.db"
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ReplayError(f"cannot open {source}: {exc}") from None
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise ReplayError(f"cannot copy {source}: {exc}") from None
    finally:
        src.close()
    return target


async def _integration_for(
    store: SqliteBackend, record: Any, kind: str, default: str | None
) -> Integration | str:
    active = [i for i in await store.integrations() if i.revoked_at is None]
    wanted = record.get("integration") if isinstance(record, dict) and "body" in record else None
    wanted = wanted or (default if kind == "alertmanager" else None)
    if wanted:
        for integration in active:
            if wanted in (integration.id, integration.service) and integration.kind == kind:
                return integration
        return f"no active {kind} integration {wanted!r} (see: incidents integration list)"
    if kind == "events":
        body = record.get("body", record) if isinstance(record, dict) else record
        key = body.get("routing_key") if isinstance(body, dict) else None
        found = await store.integration_for_key(str(key or ""))
        if found is None:
            return "the routing_key is not an active integration key of this store"
        return found
    mine = [i for i in active if i.kind == kind]
    if len(mine) == 1:
        return mine[0]
    names = ", ".join(i.id for i in mine) or "none"
    return f"name the integration with --integration (active {kind} integrations: {names})"


async def replay(
    source: Path, records: list[tuple[int, Any]], settings: Settings, integration: str | None
) -> list[Decision]:
    """Run ``records`` through intake against a copy of ``source``; return the decisions."""
    with tempfile.TemporaryDirectory(prefix="incidents-replay-") as folder:
        copy = copy_store(source, Path(folder))
        store = SqliteBackend(copy, settings=settings.model_copy(update={"db": copy}))
        await store.open()
        try:
            return [await _one(store, n, record, settings, integration) for n, record in records]
        finally:
            await store.close()


async def _one(
    store: SqliteBackend, number: int, record: Any, settings: Settings, default: str | None
) -> Decision:
    if isinstance(record, IntakeError):
        return Decision(number, "unknown", refused=str(record))
    body = record.get("body", record) if isinstance(record, dict) else record
    kind = _kind(body)
    decision = Decision(number, kind)
    if kind == "unknown":
        decision.refused = "neither an Alertmanager webhook nor an Events v2 event"
        return decision
    found = await _integration_for(store, record, kind, default)
    if isinstance(found, str):
        decision.refused = found
        return decision
    raw = json.dumps(body)
    try:
        if kind == "alertmanager":
            _hook, signals = parse_alertmanager(raw, settings.intake)
        else:
            _event, signal = parse_event(raw, settings.intake)
            signals = [signal]
    except IntakeError as exc:
        decision.refused = f"{exc}: {'; '.join(exc.errors[:5])}"
        return decision
    try:
        result = await store.ingest(found, signals)
    except BackendError as exc:
        decision.refused = str(exc)
        return decision
    for key in result.created:
        incident = await store.get_incident(key)
        decision.opened.append(f"{incident.key} {incident.priority.value} {incident.title}")
    owners = await _owners(store, found, [*result.created, *result.updated])
    for outcome in result.outcomes:
        where = owners.get(outcome.alert_key, "")
        text = f"{outcome.result} {outcome.alert_key}"
        if where:
            text += f" on {where}"
        if outcome.reason:
            text += f": {outcome.reason}"
        decision.outcomes.append(text)
    return decision


async def _owners(
    store: SqliteBackend, integration: Integration, keys: list[str]
) -> dict[str, str]:
    """Which of the incidents ``keys`` holds each alert of ``integration``: alert key -> key."""
    owners: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        incident = await store.get_incident(key)
        for alert in await store.alerts(incident.id):
            if alert.integration_id == integration.id:
                owners[alert.alert_key] = incident.key
    return owners


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents replay FILE [--config new.toml] [--integration ID] [--format text|json]``.

    ``--config`` is the ordinary settings file: its ``[intake]`` rules are the ones tried.
    """
    if settings.backend:
        print(
            "incidents replay: replay runs against a copy of a SQLite store; give --db "
            "(a copy of the server's file will do)",
            file=sys.stderr,
        )
        return 2
    source = settings.database_path()
    if not source.is_file():
        print(f"incidents replay: there is no database at {source}", file=sys.stderr)
        return 1
    try:
        records = list(_records(args.file))
        decisions = asyncio.run(replay(source, records, settings, args.integration))
    except ReplayError as exc:
        print(f"incidents replay: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([d.as_json() for d in decisions], indent=2))
    else:
        for decision in decisions:
            for line in decision.lines():
                print(line)
        print(f"{len(decisions)} bodies replayed against a copy of {source}; nothing was stored")
    return 0
