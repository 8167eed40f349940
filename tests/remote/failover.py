"""Set-up shared by the end-to-end tests that kill ``incidents serve`` processes: the
fail-over tests on one SQLite file and on one PostgreSQL database, and the outbox test.

- ``write_config``: a server home whose config sends one event kind to the test's webhook
  receiver (``HELD`` for a receiver that holds its first webhook: a minute's timeout);
- ``leading`` / ``the_leader``: which server leads, from its own log lines;
- ``seed_escalation``: three people, one level each, on service ``web``;
- ``kill_9``: SIGKILL, no clean-up of any kind;
- ``check_each_delivered_once``: what the receiver and the delivery log must show after a
  kill in mid-delivery (each notification once by idempotency key, the held one twice).
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from backends.base import Backend
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Incident,
    Service,
    TargetKind,
    User,
)
from tests.intake.receiver import Receiver
from tests.remote.server import ServerProcess

USERS = ("alice", "bob", "carol")
HELD = {"notify": "timeout = 60.0", "name": "noc"}
"""``write_config`` options for a receiver that holds a webhook: the sender waits a minute."""


def write_config(
    home: Path,
    receiver: Receiver,
    event: str,
    *,
    server: str = "",
    notify: str = "",
    name: str | None = None,
) -> None:
    """``home``'s config: ``[server]`` and ``[notify]`` lines as given, and one webhook to
    ``receiver`` for ``event`` at every priority."""
    text = f"[server]\n{server}\n\n" if server else ""
    text += f"[notify]\n{notify}\n\n" if notify else ""
    text += "[[notify.webhooks]]\n" + (f'name = "{name}"\n' if name else "")
    text += f'url = "{receiver.url}"\nevents = ["{event}"]\nmin_priority = "P5"\n'
    folder = home / "config" / "incident-console"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(text)


def leading(server: ServerProcess) -> bool:
    """Does ``server`` lead now (its last word on the lead says so)?"""
    said = [line for line in server.output if "leading" in line or "lost the lead" in line]
    return bool(said) and "leading" in said[-1]


def the_leader(servers: Sequence[ServerProcess]) -> ServerProcess | None:
    """The one server that leads, or ``None`` while none or more than one says so."""
    found = [s for s in servers if leading(s)]
    return found[0] if len(found) == 1 else None


async def seed_escalation(store: Backend, wait: timedelta) -> None:
    """``USERS`` paged one per level, ``wait`` apart, for incidents on service ``web``."""
    for user in USERS:
        await store.put_user(User(id=user, name=user))
    targets = [(EscalationTarget(kind=TargetKind.USER, id=u),) for u in USERS]
    levels = tuple(EscalationLevel(targets=t, wait=wait) for t in targets)
    await store.put_policy(EscalationPolicy(id="p", name="three people", levels=levels))
    await store.put_service(Service(id="web", name="Web", policy="p"))


def kill_9(server: ServerProcess) -> None:
    assert server.proc is not None
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)


def check_each_delivered_once(
    logged: Sequence[Any], receiver: Receiver, created: Sequence[Incident]
) -> None:
    """One delivered log row per incident; the receiver, counting by idempotency key, got
    each notification once; the held webhook came twice (the killed server's copy and the
    resent one), the others once: resent from the outbox, not re-derived from the feed."""
    assert sorted(d.incident_key for d in logged) == sorted(i.key for i in created)
    assert {d.status for d in logged} == {"delivered"}
    keys = {d.key for d in logged}
    assert len(keys) == len(created) and set(receiver.arrived) == keys
    once = receiver.once()
    assert sorted(body["incident"]["key"] for body in once.values()) == sorted(
        i.key for i in created
    ), "each notification exactly once, counted by idempotency key"
    copies = sorted(Counter(receiver.arrived).values())
    assert copies == [1] * (len(created) - 1) + [2], Counter(receiver.arrived)
