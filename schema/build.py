"""Builds the ``strawberry.Schema`` of the API contract."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.mutation import Mutation
from schema.observability import Observability
from schema.query import Query
from schema.subscription import Subscription
from schema.types import Agent, Entity, Fact, Memory, Relation


class AgentMemSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged once, where they are coded (``schema.errors``)."""


def build_schema(**options: Any) -> strawberry.Schema:
    return AgentMemSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agent, Memory, Entity, Relation, Fact],
        extensions=[
            Observability,
            ErrorCodes,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
        **options,
    )
