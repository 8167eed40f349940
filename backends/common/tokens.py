"""The ``TokenStore`` capability over any SQL store's ``tokens`` table.

Statements are written once, with ``?`` marks (a store whose driver numbers them rewrites
the marks); the store gives two seams (``SqlRunner``): run one write in its own transaction,
and read rows. Only a SHA-256 of each secret is kept (see ``console.domain.tokens``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from backends.base import NotFound, Unavailable
from console.domain.clock import Clock
from console.domain.models import utc
from console.domain.tokens import _RANK, PREFIX, ROLES, Principal, TokenInfo, digest, split_token

LAST_USED_EVERY = 60.0


class SqlRunner(Protocol):
    async def write(self, sql: str, params: Sequence[Any]) -> None:
        """Run one statement in a transaction of its own (``Unavailable`` on failure)."""
        ...

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)


class SqlTokenStore:
    """Create, list, revoke and verify tokens in the ``tokens`` table."""

    def __init__(self, sql: SqlRunner, clock: Clock) -> None:
        self.sql = sql
        self.clock = clock
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
        await self.sql.write(
            'INSERT INTO tokens (id, "user", role, name, secret_sha256, created_at) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, user, role, name, digest(secret), now),
        )
        info = TokenInfo(token_id, user, role, name, _when(now) or _epoch(), None, None)
        return info, f"{PREFIX}_{token_id}_{secret}"

    async def list(self, *, include_revoked: bool = True) -> list[TokenInfo]:
        sql = 'SELECT id, "user", role, name, created_at, last_used_at, revoked_at FROM tokens'
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = await self.sql.read(sql + " ORDER BY created_at, id")
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
        await self.sql.write(
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
        rows = await self.sql.read(
            'SELECT "user", role, secret_sha256, revoked_at FROM tokens WHERE id = ?', (token_id,)
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
            await self.sql.write(
                "UPDATE tokens SET last_used_at = ? WHERE id = ?", (self._now(), token_id)
            )
        except Unavailable:
            # A busy database must not turn a valid request into an error; the next
            # request records the use.
            self._touched.pop(token_id, None)
