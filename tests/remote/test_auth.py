"""Every route against every kind of caller, on a real server.

The routes are enumerated from the FastAPI app itself, so a route added later is covered
without touching this file, and a ``/v1`` route without a ``RoleGuard`` fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from backends.sqlite.store import SqliteBackend
from console.domain.config import Settings
from console.domain.tokens import ROLES, role_allows
from console.http.app import create_app
from console.http.deps import KEY_AUTH_PREFIX, OPEN_PATHS, required_role, route_table
from tests.remote.conftest import Live

PLACEHOLDERS = {"ref": "1", "incident_id": "1", "item_id": "web", "token_id": "nope"}


def routes(tmp: Path) -> list[tuple[str, str, str | None]]:
    """(method, path, required role) for every route of the app."""
    app = create_app(SqliteBackend(tmp / "enumerate.db"), Settings())
    found = []
    for path, methods, route in route_table(app):
        if path not in OPEN_PATHS and not isinstance(route, APIRoute):
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            found.append((method, path, required_role(route)))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "x"), path)


async def call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = concrete(path)
    if path in ("/v1/stream", "/v1/presence/stream"):
        # A stream never ends by itself: the status line is the answer.
        async with client.stream(method, url, headers=headers) as response:
            return response.status_code
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    response = await client.request(method, url, headers=headers, json=body)
    if response.status_code in (401, 403):
        payload = response.json()
        assert payload["error"] in ("unauthorized", "forbidden"), payload
        assert len(payload["message"]) > 20, payload  # says why
    return response.status_code


def test_every_v1_route_declares_who_may_call_it(tmp_path: Path) -> None:
    found = routes(tmp_path)
    assert len(found) > 25
    unguarded = [
        (method, path)
        for method, path, role in found
        if role is None and path not in OPEN_PATHS and not path.startswith(KEY_AUTH_PREFIX)
    ]
    assert unguarded == [], f"routes without a RoleGuard: {unguarded}"
    roles = {(method, path): role for method, path, role in found}
    # The documented split, spot-checked: reads for viewers, triage for responders,
    # directory and tokens for admins.
    assert roles[("GET", "/v1/incidents")] == "viewer"
    assert roles[("GET", "/v1/stream")] == "viewer"
    assert roles[("POST", "/v1/incidents/{incident_id}/actions")] == "responder"
    assert roles[("POST", "/v1/incidents")] == "responder"
    assert roles[("PUT", "/v1/services/{item_id}")] == "admin"
    assert roles[("PUT", "/v1/users/{item_id}")] == "admin"
    assert roles[("POST", "/v1/tokens")] == "admin"
    assert roles[("DELETE", "/v1/tokens/{token_id}")] == "admin"


async def test_every_route_with_every_caller(live: Live, tmp_path: Path) -> None:
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
        for method, path, needed in routes(tmp_path):
            label = f"{method} {path}"
            anonymous = await call(client, method, path, {})
            forged = await call(client, method, path, {"Authorization": "Bearer inc_0000_nope"})
            if path in OPEN_PATHS:
                if anonymous != 200:
                    failures.append(f"{label}: open route answered {anonymous} without a token")
                continue
            if needed is None:  # integration-key routes: user tokens and nothing both fail
                assert path.startswith(KEY_AUTH_PREFIX)
                for status in (anonymous, forged):
                    if not 400 <= status < 500:
                        failures.append(f"{label}: answered {status} without an integration key")
                continue
            if anonymous != 401:
                failures.append(f"{label}: no token -> {anonymous}, want 401")
            if forged != 401:
                failures.append(f"{label}: bad token -> {forged}, want 401")
            for role in ROLES:
                status = await call(client, method, path, live.headers(role))
                if role_allows(role, needed):
                    if status in (401, 403):
                        failures.append(f"{label}: {role} -> {status}, should be allowed")
                elif status != 403:
                    failures.append(f"{label}: {role} -> {status}, want 403 (needs {needed})")
    assert failures == []


async def test_401_and_403_say_why(live: Live) -> None:
    async with live.http() as anonymous:
        response = await anonymous.get("/v1/incidents")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["message"]
    async with live.http("viewer") as viewer:
        response = await viewer.post(
            "/v1/incidents/1/actions",
            json={"action": {"kind": "acknowledge"}, "expected_version": 1},
        )
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "forbidden"
    assert body["role"] == "viewer" and body["needed"] == "responder"
    assert "vic is a viewer" in body["message"]


@pytest.mark.parametrize("token", ["", "Basic abc", "Bearer", "Bearer inc_x", "Bearer inc__y"])
async def test_malformed_authorization_headers_are_401(live: Live, token: str) -> None:
    async with live.http() as client:
        response = await client.get("/v1/whoami", headers={"Authorization": token})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_a_token_with_a_wrong_secret_is_refused(live: Live) -> None:
    token_id = live.token("admin").split("_")[1]
    async with live.http() as client:
        wrong = await client.get(
            "/v1/whoami", headers={"Authorization": f"Bearer inc_{token_id}_{'A' * 43}"}
        )
        right = await client.get("/v1/whoami", headers=live.headers("admin"))
    assert wrong.status_code == 401
    assert right.json() == {"user": "ada", "role": "admin", "token_id": token_id}
