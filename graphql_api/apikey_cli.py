"""``agentmem apikey create|list|revoke|rotate``: key management on the
configured stores, with the same ``--data-dir`` and settings as ``serve``.

``create`` and ``rotate`` print the new key alone on their last line (it is
shown this once); nothing else ever prints a secret.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import timedelta
from pathlib import Path

from graph.access.apikeys import ApiKey, IssuedKey
from graph.access.policy import Policy
from graph.access.principal import Principal
from graph.errors import BadInput, DomainError
from graph.memory_graph import MemoryGraph
from graphql_api.backends import open_graph
from graphql_api.settings import Settings

_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apikey = verbs.add_parser(
        "apikey",
        help="create, list, revoke or rotate API keys",
        description="Manage API keys in the configured stores (same settings as serve).",
    )
    actions = apikey.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = _action(actions, "create", "create a key; prints it alone on the last line")
    create.add_argument("--role", action="append", required=True, help="role (repeatable)")
    create.add_argument("--name", default="cli", help="a label for the key")
    create.add_argument("--expires-in", help="lifetime, e.g. 3600, 90m, 12h, 30d, 2w")
    create.add_argument("--agent-id", help="limit the key to this agent's memories")
    create.add_argument("--user-id", help="limit the key to memories about this user")
    _action(actions, "list", "list a tenant's keys (never their secrets)")
    _action(actions, "revoke", "revoke a key").add_argument("id", help="the key id")
    _action(actions, "rotate", "replace a key with a new one").add_argument("id", help="the key id")


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    action = actions.add_parser(name, help=text, description=text)
    action.add_argument("--tenant", help="tenant of the keys (default: the tenant setting)")
    action.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    return action


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if match is None:
        raise BadInput(f"--expires-in must be like 3600, 90m, 12h, 30d or 2w, not {text!r}.")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


async def run(settings: Settings, args: argparse.Namespace) -> int:
    tenant = args.tenant or settings.tenant
    graph = await open_graph(settings)
    try:
        return await _act(graph, tenant, args)
    except DomainError as exc:
        print(f"agentmem: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await graph.close()


async def _act(graph: MemoryGraph, tenant: str, args: argparse.Namespace) -> int:
    admin = Principal.system(tenant)
    if args.action == "create":
        unknown = sorted(set(args.role) - set(Policy().roles))
        if unknown:
            raise BadInput(f"Unknown roles: {', '.join(unknown)}.")
        issued = await graph.apikeys.create(
            admin,
            args.name,
            args.role,
            agent_id=args.agent_id,
            user_id=args.user_id,
            expires_in=None if args.expires_in is None else parse_duration(args.expires_in),
        )
        await graph.audit.record(admin, "apikey.create", [issued.key.id])
        _print_issued(issued)
    elif args.action == "list":
        print(f"{'id':<16}  {'name':<20} {'roles':<16} {'created':<20} {'expires':<20} state")
        for key in await graph.apikeys.list(admin):
            print(_row(key))
    elif args.action == "revoke":
        key = await graph.apikeys.revoke(admin, args.id)
        await graph.audit.record(admin, "apikey.revoke", [key.id])
        print(f"revoked {key.id}")
    elif args.action == "rotate":
        issued = await graph.apikeys.rotate(admin, args.id)
        await graph.audit.record(admin, "apikey.rotate", [args.id, issued.key.id])
        print(f"revoked {args.id}")
        _print_issued(issued)
    return 0


def _print_issued(issued: IssuedKey) -> None:
    key = issued.key
    print(f"created key {key.id} for tenant {key.tenant!r} with roles {sorted(key.roles)}")
    if key.expires_at is not None:
        print(f"expires {key.expires_at.isoformat(timespec='seconds')}")
    print("store it now: it is not shown again")
    print(issued.token)


def _row(key: ApiKey) -> str:
    state = "revoked" if key.revoked_at else "active"
    scope = "".join(
        f" {name}={value}"
        for name, value in (("agent", key.agent_id), ("user", key.user_id))
        if value
    )
    expires = key.expires_at.isoformat(timespec="seconds")[:19] if key.expires_at else "never"
    created = key.created_at.isoformat(timespec="seconds")[:19]
    roles = ",".join(sorted(key.roles))
    return (
        f"{key.id:<16}  {key.name[:20]:<20} {roles:<16} {created:<20} {expires:<20} {state}{scope}"
    )
