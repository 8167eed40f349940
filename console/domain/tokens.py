"""API tokens and roles for ``incidents serve``, and the ``incidents token`` command.

A token looks like ``inc_<id>_<secret>``: ``id`` is a short random public handle (what
``token list`` shows and ``token revoke`` takes), ``secret`` 32 random bytes
(``secrets.token_urlsafe``, 256 bits). Only ``sha256(secret)`` is stored.

Why a plain SHA-256 and not bcrypt/scrypt/argon2: slow, salted hashes exist to protect
low-entropy secrets (passwords people choose) from offline guessing. A 256-bit random secret
cannot be guessed no matter how fast the hash is, so a stolen ``tokens`` table gives nothing
away; and every API request verifies a token, so verification must take microseconds, not
the ~100 ms a password hash deliberately costs. The stored digest is compared with
``hmac.compare_digest`` so the comparison time does not depend on where the digests differ,
and the row is found by the public id, never by the secret or its digest.

Roles, each including the one before: ``viewer`` reads; ``responder`` also triages (act,
create, notes); ``admin`` also manages services, people, teams, policies, schedules and
tokens.

Storage: the ``tokens`` table is migration 3 of the SQLite store (``backends/sqlite.py``);
``TokenStore`` reads and writes it through the store's ``fetchall()`` / ``transaction()``,
so the Backend Protocol stays about incidents and this module stays the one place that
knows about secrets.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from backends.base import NotFound, Unavailable
from console.domain.clock import Clock
from console.domain.config import Settings
from console.domain.models import utc

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

Role = Literal["viewer", "responder", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "responder", "admin")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

PREFIX = "inc"

LAST_USED_EVERY = 60.0
"""Seconds between writes of a token's ``last_used_at``: one write per token per minute
instead of one per request, so reads never queue behind a write transaction."""


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (roles are ordered)."""
    return role in _RANK and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's user is the actor of every mutation they make."""

    user: str
    role: str
    token_id: str

    def can(self, needed: str) -> bool:
        return role_allows(self.role, needed)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never its secret."""

    id: str
    user: str
    role: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``inc_<id>_<secret>`` -> ``(id, secret)``; ``None`` when it is not shaped like one."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)


class TokenStore:
    """Create, list, revoke and verify tokens in the ``tokens`` table of the SQLite store.

    It goes through the store's ``transaction()`` and ``fetchall()``, so token writes share
    the store's write lock, busy timeout and error mapping (``Unavailable``).
    """

    def __init__(self, store: SqliteBackend, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or store.clock
        self._touched: dict[str, float] = {}
        # An unknown id still costs one digest comparison, so a probe cannot tell
        # "no such id" from "wrong secret" by timing.
        self._decoy = digest(secrets.token_urlsafe(32))

    def _now(self) -> float:
        return utc(self.clock.now()).timestamp()

    async def create(self, user: str, role: str, name: str = "") -> tuple[TokenInfo, str]:
        """A new token for ``user`` with ``role``; returns its info and the token (shown once)."""
        user = user.strip()
        if not user:
            raise ValueError("a token needs a user name")
        if role not in _RANK:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        now = self._now()
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO tokens (id, user, role, name, secret_sha256, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, user, role, name, digest(secret), now),
            )
        info = TokenInfo(token_id, user, role, name, _when(now) or _epoch(), None, None)
        return info, f"{PREFIX}_{token_id}_{secret}"

    async def list(self, *, include_revoked: bool = True) -> list[TokenInfo]:
        sql = "SELECT id, user, role, name, created_at, last_used_at, revoked_at FROM tokens"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = await self.store.fetchall(sql + " ORDER BY created_at, id")
        return [
            TokenInfo(
                row[0],
                row[1],
                row[2],
                row[3],
                _when(row[4]) or _epoch(),
                _when(row[5]),
                _when(row[6]),
            )
            for row in rows
        ]

    async def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token (revoking a revoked token again changes nothing)."""
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (self._now(), token_id),
            )
        for info in await self.list():
            if info.id == token_id:
                return info
        raise NotFound(f"no token with id {token_id!r}: `incidents token list` shows them")

    async def verify(self, token: str) -> Principal | None:
        """The principal a presented token stands for, or ``None`` (unknown, revoked, wrong)."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        rows = await self.store.fetchall(
            "SELECT user, role, secret_sha256, revoked_at FROM tokens WHERE id = ?", (token_id,)
        )
        presented = digest(secret)
        if not rows:
            hmac.compare_digest(self._decoy, presented)
            return None
        user, role, stored, revoked = rows[0]
        if not hmac.compare_digest(stored, presented) or revoked is not None:
            return None
        await self._touch(token_id)
        return Principal(user=user, role=role, token_id=token_id)

    async def _touch(self, token_id: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(token_id, -LAST_USED_EVERY) < LAST_USED_EVERY:
            return
        self._touched[token_id] = now
        try:
            async with self.store.transaction() as db:
                await db.execute(
                    "UPDATE tokens SET last_used_at = ? WHERE id = ?", (self._now(), token_id)
                )
        except Unavailable:
            # A busy database must not turn a valid request into an error; the next
            # request records the use.
            self._touched.pop(token_id, None)


async def open_store_for(settings: Settings) -> SqliteBackend:
    """Open (creating / migrating if needed) the SQLite store of ``settings``."""
    from backends.sqlite.store import SqliteBackend

    store = SqliteBackend(settings.database_path(), settings=settings)
    return await store.open()


def _format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = await open_store_for(settings)
    store = TokenStore(backend)
    try:
        if args.token_command == "create":
            info, token = await store.create(args.user, args.role, args.name)
            print(token)
            print(
                f"token {info.id} for {info.user} ({info.role}) created; this is the only "
                "time it is shown: store it now.",
                file=sys.stderr,
            )
        elif args.token_command == "list":
            rows = await store.list()
            if not rows:
                print(
                    "no tokens: create one with `incidents token create --user NAME --role admin`"
                )
                return 0
            header = f"{'ID':<10} {'USER':<16} {'ROLE':<10} {'CREATED':<17} {'LAST USED':<17} STATE"
            print(header)
            for info in rows:
                state = f"revoked {_format_time(info.revoked_at)}" if info.revoked_at else "active"
                print(
                    f"{info.id:<10} {info.user[:16]:<16} {info.role:<10} "
                    f"{_format_time(info.created_at):<17} {_format_time(info.last_used_at):<17} "
                    f"{state}"
                )
        elif args.token_command == "revoke":
            info = await store.revoke(args.token_id)
            print(f"token {info.id} of {info.user} ({info.role}) revoked")
    finally:
        await backend.close()
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents token create|list|revoke``."""
    try:
        return asyncio.run(_run(args, settings))
    except (NotFound, Unavailable, ValueError) as exc:
        print(f"incidents token: {exc}", file=sys.stderr)
        return 1
