"""The ``forget`` mutation: the right to be forgotten (see
:mod:`graph.services.forget`)."""

from __future__ import annotations

import strawberry

from graph.access.policy import FORGET
from graph.errors import BadInput
from graph.services import forget as domain
from schema.types import Ctx


@strawberry.type(description="What `forget` erased (hard deletes), by kind.")
class ForgetReport:
    memories: int
    versions: int
    relations: int
    facts: int
    entities: int
    index_documents: int = strawberry.field(
        description="Search documents removed from the index now."
    )
    index_pending: bool = strawberry.field(
        description="True when the search index was unavailable: the remaining "
        "documents are removed as soon as it returns."
    )

    @classmethod
    def wrap(cls, report: domain.ForgetReport) -> ForgetReport:
        return cls(
            memories=report.memories,
            versions=report.versions,
            relations=report.relations,
            facts=report.facts,
            entities=report.entities,
            index_documents=report.index_documents,
            index_pending=report.index_pending,
        )


async def forget(
    info: Ctx, user_id: str | None = None, entity_id: strawberry.ID | None = None
) -> ForgetReport:
    ctx = info.context
    ctx.policy.require(ctx.principal, FORGET)
    if (user_id is None) == (entity_id is None):
        raise BadInput("Give exactly one of `userId` and `entityId`.")
    if user_id is not None:
        report = await ctx.graph.forget.forget_user(ctx.principal, user_id)
    else:
        report = await ctx.graph.forget.forget_entity(ctx.principal, str(entity_id))
    return ForgetReport.wrap(report)
