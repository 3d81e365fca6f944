"""``agentmem forget``: the right to be forgotten from the command line, for
operators handling an erasure request without going through GraphQL. Runs as
the tenant's system principal and is audited like the mutation."""

from __future__ import annotations

import sys

from graph.access.principal import Principal
from graph.errors import DomainError
from graph.services.forget import ForgetReport
from graphql_api.backends import open_graph
from graphql_api.settings import Settings


async def forget(
    settings: Settings, tenant: str, user_id: str | None, entity_id: str | None
) -> int:
    """Erase one subject; prints the report. Exit 1 for an unknown entity or bad input."""
    graph = await open_graph(settings)
    try:
        principal = Principal.system(tenant)
        try:
            if user_id is not None:
                report = await graph.forget.forget_user(principal, user_id)
            else:
                assert entity_id is not None
                report = await graph.forget.forget_entity(principal, entity_id)
        except DomainError as exc:
            print(f"agentmem forget: {exc.message}", file=sys.stderr)
            return 1
        _print(report)
        return 0
    finally:
        await graph.close()


def _print(report: ForgetReport) -> None:
    for name in ("memories", "versions", "relations", "facts", "entities", "index_documents"):
        print(f"{name}: {getattr(report, name)}")
    if report.index_pending:
        print("index: unavailable; the remaining documents are removed when it returns")
