"""``incidents integration create|list|revoke``: the keys monitoring systems send alerts with.

An integration belongs to one service and has a kind: ``alertmanager`` (its key goes in
Alertmanager's ``http_config.authorization.credentials``, or as ``?key=``), ``events`` (its
key is an Events v2 ``routing_key``) or ``change`` (the ``routing_key`` of Change Events v2
bodies a deploy pipeline sends). The key is printed once, at creation; the store
keeps only a digest of its secret part (``backends.sqlite.intake``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from backends import capabilities, open_store
from backends.base import Backend, InvalidAction, NotFound, Unavailable
from backends.capabilities import IntakeStore
from console.domain.config import Settings
from console.domain.intake import Integration
from console.domain.models import Service


def _row(integration: Integration) -> str:
    state = "active" if integration.active else "revoked"
    created = integration.created_at.strftime("%Y-%m-%d %H:%M")
    return (
        f"{integration.id}  {integration.kind:<12}  {integration.service:<16}  {state:<7}  "
        f"{created}  {integration.name}"
    ).rstrip()


def _usage(integration: Integration, key: str, port: int) -> str:
    url = f"http://HOST:{port}/v1/integrations/{integration.kind}"
    if integration.kind == "alertmanager":
        return (
            "In alertmanager.yml:\n"
            "  receivers:\n"
            "    - name: incidents\n"
            "      webhook_configs:\n"
            f"        - url: {url}\n"
            "          send_resolved: true\n"
            "          http_config:\n"
            "            authorization:\n"
            f"              credentials: {key}"
        )
    if integration.kind == "change":
        return (
            f'POST {url} with "routing_key": "{key}" in each Change Events v2 body '
            "(a deploy pipeline's change events)"
        )
    return f'POST {url} with "routing_key": "{key}" in each Events v2 body'


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        intake = capabilities.intake(store)
        if intake is None:
            raise Unavailable(f"{store.description} takes no alerts, so it has no integrations")
        return await _command(args, settings, store, intake)
    finally:
        await store.close()


async def _command(
    args: argparse.Namespace, settings: Settings, store: Backend, intake: IntakeStore
) -> int:
    command = args.integration_command
    if command == "create":
        if getattr(args, "create_service", False):
            known = {service.id for service in await store.services()}
            if args.service not in known:
                await store.put_service(Service(id=args.service, name=args.service))
                print(f"created service {args.service}")
        integration, key = await intake.create_integration(args.service, args.kind, args.name)
        print(f"integration {integration.id} ({integration.kind}) for {integration.service}")
        print(f"key: {key}")
        print("The key is shown only now; store it where the sender can read it.")
        print(_usage(integration, key, settings.server.port))
        return 0
    if command == "list":
        found = await intake.integrations()
        if not found:
            print(
                f"no integrations in {store.description} yet: "
                "incidents integration create --service NAME --kind ..."
            )
            return 0
        print("id        kind          service           state    created           name")
        for integration in found:
            print(_row(integration))
        return 0
    revoked = await intake.revoke_integration(args.integration_id)
    print(f"revoked {revoked.id} ({revoked.kind} for {revoked.service}): its key no longer works")
    return 0


def cmd_integration(args: argparse.Namespace, settings: Settings) -> int:
    """``incidents integration create|list|revoke``."""
    if settings.backend and getattr(args, "db", None) is None:
        print(
            "incidents integration: integrations are managed on the server's database; run "
            "this on the server host with --db PATH (INCIDENTS_BACKEND is set)",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except (NotFound, InvalidAction, Unavailable) as exc:
        print(f"incidents integration: {exc}", file=sys.stderr)
        return 1
