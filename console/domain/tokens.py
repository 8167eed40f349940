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
``SqliteTokenStore`` (``backends/sqlite/tokens.py``, the ``TokenStore`` capability) keeps it,
so the Backend Protocol stays about incidents and this module stays the one place that
knows about secrets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    pass

Role = Literal["viewer", "responder", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "responder", "admin")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

PREFIX = "inc"

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


