"""Static query cost: what an operation may make the server do, computed
from the document and its variables before anything runs.

The model (documented in ``docs/hardening.md``):

- A scalar or enum field costs 0; introspection fields cost 0.
- A field returning an object (or a list of objects) costs ``1`` plus one per
  hop it asks for (its ``depth`` and ``expand`` arguments), plus its
  children's cost times its *size*.
- The size is the value of its ``first`` or ``limit`` argument (from the
  document, the variables, or the schema's default). A list field without a
  size argument is bounded by its parent when the parent had one (the
  ``edges`` of a connection, the ``nodes`` of a subgraph); otherwise it
  counts as ``default_list_size`` items.
- Every fragment and inline fragment counts in full (an upper bound when
  type conditions exclude each other).

So sizes multiply down the tree: ``agents(first: 100) { edges { node {
memories(first: 100) { ... } } } }`` costs about 100 x 100 times its leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

SIZE_ARGUMENTS = ("first", "limit")
HOP_ARGUMENTS = ("depth", "expand")


@dataclass(frozen=True, slots=True)
class CostModel:
    default_list_size: int = 10
    """Assumed length of a list field that has no size argument of its own."""


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    model: CostModel | None = None,
) -> int:
    """The cost of the operation ``operation_name`` (or the only one) in a
    valid ``document``; 0 if there is no such operation."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walker = _Walker(
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
        _variable_values(operation, variables or {}),
        model or CostModel(),
        schema,
    )
    return walker.selection_cost(operation.selection_set, root, sized_parent=False)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def _variable_values(
    operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The request's variables, with the operation's literal defaults filled in."""
    values = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if values.get(name) is None and isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
    return values


@dataclass(slots=True)
class _Walker:
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    model: CostModel
    schema: GraphQLSchema

    def selection_cost(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, sized_parent: bool
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, sized_parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                inner = selection.selection_set
                total += self.selection_cost(inner, target or parent, sized_parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(fragment.selection_set, target or parent, sized_parent)
        return total

    def field_cost(self, node: FieldNode, parent: GraphQLNamedType, sized_parent: bool) -> int:
        name = node.name.value
        fields: Mapping[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(name)
        if name.startswith("__") or definition is None or node.selection_set is None:
            return 0
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        argument_size = self._argument(node, definition, SIZE_ARGUMENTS)
        size = argument_size
        if size is None:
            listed = is_list_type(get_nullable_type(definition.type))
            size = self.model.default_list_size if listed and not sized_parent else 1
        hops = sum(self._argument(node, definition, (arg,)) or 0 for arg in HOP_ARGUMENTS)
        children = self.selection_cost(
            node.selection_set, named, sized_parent=argument_size is not None
        )
        return 1 + hops + size * children

    def _argument(
        self, node: FieldNode, definition: GraphQLField, names: tuple[str, ...]
    ) -> int | None:
        """The first of ``names`` that the field takes, as a non-negative int
        (from the document, a variable, or the schema default)."""
        for name in names:
            if name not in definition.args:
                continue
            value: Any = definition.args[name].default_value
            given = next((a for a in node.arguments or () if a.name.value == name), None)
            if given is not None:
                if isinstance(given.value, IntValueNode):
                    value = int(given.value.value)
                elif isinstance(given.value, VariableNode):
                    value = self.variables.get(given.value.name.value, value)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, value)
        return None
