"""Type-level authorization: which permissions an operation needs, read off
its selection once, before anything runs.

Selecting any field of a type needs that type's read permission (a
``Memory`` field needs ``memory:read``, a ``SearchHit`` needs ``search``);
some root fields need their own (mutations need a write permission, the
subscription ``subscribe``). An operation that needs a permission the caller
lacks is refused whole with ``FORBIDDEN`` and runs nothing, so no mutation is
half done and no data leaks through a nested field. ``@skip``/``@include``
are not evaluated: a conditional selection is required all the same.

Field-level rules (content, metadata) are decided per object while
resolving; see :mod:`resolvers.reveal`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type import GraphQLInterfaceType
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult

from graph.access.policy import (
    AGENT_READ,
    AGENT_WRITE,
    GRAPH_WRITE,
    MEMORY_READ,
    MEMORY_WRITE,
    SEARCH,
    SUBSCRIBE,
)
from graph.errors import Unavailable
from resolvers.context import RequestContext

TYPE_PERMISSIONS: Mapping[str, str] = {
    "Memory": MEMORY_READ,
    "MemoryVersion": MEMORY_READ,
    "MemoryConnection": MEMORY_READ,
    "MemoryEdge": MEMORY_READ,
    "RelatedMemory": MEMORY_READ,
    "Relation": MEMORY_READ,
    "Entity": MEMORY_READ,
    "Fact": MEMORY_READ,
    "Subgraph": MEMORY_READ,
    "Agent": AGENT_READ,
    "AgentConnection": AGENT_READ,
    "AgentEdge": AGENT_READ,
    "SearchHit": SEARCH,
    "MemoryEvent": SUBSCRIBE,
}
"""Reading any field of the type needs the permission."""

FIELD_PERMISSIONS: Mapping[tuple[str, str], str] = {
    ("Query", "search"): SEARCH,
    ("Mutation", "createAgent"): AGENT_WRITE,
    ("Mutation", "addMemory"): MEMORY_WRITE,
    ("Mutation", "addMemories"): MEMORY_WRITE,
    ("Mutation", "updateMemory"): MEMORY_WRITE,
    ("Mutation", "deleteMemory"): MEMORY_WRITE,
    ("Mutation", "relate"): GRAPH_WRITE,
    ("Mutation", "unrelate"): GRAPH_WRITE,
    ("Mutation", "addFact"): GRAPH_WRITE,
    ("Subscription", "memoryEvents"): SUBSCRIBE,
}
"""Selecting the field itself needs the permission. Root fields added by
other features gate themselves in their resolvers."""

_CACHE_SIZE = 512
log = logging.getLogger("agentmem.access")


def required_permissions(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> frozenset[str]:
    """Every permission the selected operation of ``document`` needs."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return frozenset()
    root = schema.get_root_type(operation.operation)
    if root is None:
        return frozenset()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    needed: set[str] = set()
    _collect(schema, root, operation.selection_set, fragments, set(), needed)
    return frozenset(needed)


def _collect(
    schema: GraphQLSchema,
    parent: GraphQLObjectType | GraphQLInterfaceType,
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    spread: set[str],
    needed: set[str],
) -> None:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            if parent.name in TYPE_PERMISSIONS:
                needed.add(TYPE_PERMISSIONS[parent.name])
            field_permission = FIELD_PERMISSIONS.get((parent.name, name))
            if field_permission is not None:
                needed.add(field_permission)
            field = parent.fields.get(name)
            if field is not None and selection.selection_set is not None:
                _collect_in(
                    schema,
                    get_named_type(field.type),
                    selection.selection_set,
                    fragments,
                    spread,
                    needed,
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            _collect_in(schema, target, selection.selection_set, fragments, spread, needed)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in spread:
                continue
            spread.add(name)
            target = schema.get_type(fragment.type_condition.name.value)
            _collect_in(schema, target, fragment.selection_set, fragments, spread, needed)


def _collect_in(
    schema: GraphQLSchema,
    target: object,
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    spread: set[str],
    needed: set[str],
) -> None:
    if isinstance(target, GraphQLObjectType | GraphQLInterfaceType):
        _collect(schema, target, selections, fragments, spread, needed)
    elif target is not None and hasattr(target, "types"):  # a union: every member counts
        for member in target.types:
            _collect(schema, member, selections, fragments, spread, needed)


class Authorization(SchemaExtension):
    """Refuses an operation that needs a permission the caller lacks, before
    it runs; after it ran (and after each subscription event), records in the
    audit log which objects' personal data the caller read in clear."""

    _needs: OrderedDict[tuple[str, str | None], frozenset[str]] = OrderedDict()

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            for permission in sorted(self._required()):
                context.reveal.view.require(permission)
        yield
        result = self.execution_context.result
        if isinstance(context, RequestContext) and result is not None:
            await _audit_or_withhold(context, result)

    async def on_stream_result(self, result: StreamExecutionResult) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            await _audit_or_withhold(context, result)
        yield

    def _required(self) -> frozenset[str]:
        ctx = self.execution_context
        key = (ctx.query or "", ctx.operation_name)
        needs = self._needs.get(key)
        if needs is None:
            assert ctx.graphql_document is not None
            schema = ctx.schema._schema
            needs = required_permissions(schema, ctx.graphql_document, ctx.operation_name)
            self._needs[key] = needs
            if len(self._needs) > _CACHE_SIZE:
                self._needs.popitem(last=False)
        return needs


async def _audit_or_withhold(context: RequestContext, result: Any) -> None:
    """Audit the clear-text reads; if the audit cannot be written, the data
    is not sent (every unmasked read is audited, or it does not happen)."""
    try:
        await context.reveal.flush(context.graph.audit)
    except Exception:
        log.exception("cannot audit unmasked personal data reads; withholding the result")
        result.data = None
        result.errors = [
            GraphQLError(
                "The audit log is unavailable; the result was withheld.",
                extensions={"code": Unavailable.code},
            )
        ]
