"""``/status`` and ``/status.json`` on a real server: no token, escaped, nothing internal."""

from __future__ import annotations

import re

from backends.sqlite.store import SqliteBackend
from console.domain.lifecycle import AddNote, AlertRepeated, Assign, PublicUpdate, Publish
from console.domain.models import NewIncident
from tests.remote.conftest import Live


async def test_the_status_page_shows_public_incidents_and_nothing_internal(live: Live) -> None:
    client = await live.remote("responder")
    shown = await client.create_incident(
        NewIncident(
            title="Pool exhausted on db-7.internal",
            service="web",
            impact=1,
            urgency=1,
            labels={"customer": "ACME-internal-4411"},
        ),
        "rex",
    )
    hidden = await client.create_incident(
        NewIncident(title="Secret migration window", service="web"), "rex"
    )
    v = shown.version
    # A repeated alert is a system action (intake takes it; a token is refused, issue 11):
    # it goes into the store the server serves, the way intake writes it.
    async with SqliteBackend(live.db) as store:
        repeat = AlertRepeated(summary="disk /dev/sda9 full")
        v = (await store.act(shown.id, repeat, "intake", v)).version
    publish = Publish(
        title="Checkout <script>alert(1)</script> errors", message="Investigating & on it."
    )
    v = (await client.act(shown.id, publish, "rex", v)).version
    v = (await client.act(shown.id, Assign(assignee="vic"), "rex", v)).version
    v = (
        await client.act(shown.id, AddNote(text="root cause: pgbouncer-42 config"), "rex", v)
    ).version
    await client.act(shown.id, PublicUpdate(message="Fix deployed, watching."), "rex", v)

    async with live.http() as anonymous:  # no token at all
        html = await anonymous.get("/status")
        data = await anonymous.get("/status.json")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert data.status_code == 200 and data.json()["state"] == "outage"
    page = html.text
    assert "Checkout &lt;script&gt;alert(1)&lt;/script&gt; errors" in page
    assert "<script" not in page.lower()  # no script needed, none injected
    assert "Investigating &amp; on it." in page and "Fix deployed, watching." in page
    assert shown.key in page and "Outage" in page
    internal = [
        "db-7.internal",  # internal title
        hidden.key,
        "Secret migration window",
        "ACME-internal-4411",  # a label
        "/dev/sda9",  # alert details
        "pgbouncer-42",  # a note
        "vic",  # assignee
        "rex",  # actor
        *live.tokens.values(),
    ]
    for text in (page, data.text):
        for secret in internal:  # as whole words: "vic" is also in "device-width"
            assert not re.search(rf"\b{re.escape(secret)}\b", text), secret
