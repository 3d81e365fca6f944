"""Builds the ``strawberry.Schema`` of the API contract."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from schema.audit import MutationAudit
from schema.errors import ErrorCodes
from schema.guard import GuardConfig, QueryGuard
from schema.mutation import Mutation
from schema.observability import Observability
from schema.permissions import Authorization
from schema.query import Query
from schema.subscription import Subscription
from schema.types import Agent, Entity, Fact, Memory, Relation


class AgentMemSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged once, where they are coded (``schema.errors``)."""


def build_schema(guard: GuardConfig | None = None, **options: Any) -> strawberry.Schema:
    """The schema; ``guard`` sets its limits, budgets and rate limits
    (:mod:`schema.guard`; defaults without rate limits when omitted)."""
    guard_config = guard or GuardConfig()
    return AgentMemSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agent, Memory, Entity, Relation, Fact],
        extensions=[
            Observability,
            ErrorCodes,
            MutationAudit,
            lambda: QueryGuard(guard_config),  # parses and validates, with caches
            Authorization,
        ],
        **options,
    )
