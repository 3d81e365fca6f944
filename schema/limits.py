"""Shape limits on a GraphQL document, checked before any validation or
execution: nesting depth, aliases and root fields (the token limit is the
parser's own, see :class:`QueryLimits.max_tokens`).

Pure functions over the parsed document, so they are unit-tested without a
server. Each violation is a ``BAD_USER_INPUT`` error whose extensions name
the limit (``limit``), its maximum (``max``) and what the document has
(``actual``; for depth, the first level past the maximum).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

LIMIT_EXTENSION = "limit"


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The largest document the server agrees to work on."""

    max_depth: int = 12
    """Nested field levels (``{ a { b } }`` is 2); introspection fields are not counted."""
    max_aliases: int = 30
    """Aliased fields in the whole document."""
    max_root_fields: int = 20
    """Fields at the top of one operation (after expanding fragments; not ``__typename``)."""
    max_tokens: int = 10_000
    """Lexical tokens; the parser stops at this many, before building the tree."""


def limit_error(limit: str, message: str, maximum: int, actual: int) -> GraphQLError:
    """A refused request: ``BAD_USER_INPUT`` with the limit named in extensions."""
    return GraphQLError(
        message,
        extensions={
            "code": "BAD_USER_INPUT",
            LIMIT_EXTENSION: limit,
            "max": maximum,
            "actual": actual,
        },
    )


def check_document(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    """Every limit ``document`` exceeds, as client errors (empty if none)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    errors: list[GraphQLError] = []
    depth = max(
        (_depth(op.selection_set, fragments, limits.max_depth + 1, set()) for op in operations),
        default=0,
    )
    if depth > limits.max_depth:
        errors.append(
            limit_error(
                "depth",
                f"The query is nested deeper than {limits.max_depth} levels.",
                limits.max_depth,
                depth,
            )
        )
    aliases = count_aliases(document)
    if aliases > limits.max_aliases:
        errors.append(
            limit_error(
                "aliases",
                f"The query has {aliases} aliases; at most {limits.max_aliases} are allowed.",
                limits.max_aliases,
                aliases,
            )
        )
    roots = max((len(root_fields(op, fragments)) for op in operations), default=0)
    if roots > limits.max_root_fields:
        errors.append(
            limit_error(
                "root_fields",
                f"An operation selects {roots} root fields; at most "
                f"{limits.max_root_fields} are allowed.",
                limits.max_root_fields,
                roots,
            )
        )
    return errors


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    cutoff: int,
    visiting: set[str],
) -> int:
    """Depth of ``selection_set``, counting no further than ``cutoff`` (so a
    hostile document cannot make this walk long or deep)."""
    if selection_set is None or cutoff <= 0:
        return 0
    deepest = 0
    for field in _fields(selection_set, fragments, visiting):
        if field.name.value.startswith("__"):
            continue
        deepest = max(deepest, 1 + _depth(field.selection_set, fragments, cutoff - 1, visiting))
        if deepest >= cutoff:
            break
    return deepest


def _fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visiting: set[str],
) -> Iterator[FieldNode]:
    """The fields of one selection set, with fragments expanded in place (a
    fragment already being expanded is skipped: cycles are a validation error)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue
            visiting.add(name)
            try:
                yield from _fields(fragment.selection_set, fragments, visiting)
            finally:
                visiting.discard(name)


def root_fields(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """The operation's top-level fields, introspection fields left out."""
    return [
        f
        for f in _fields(operation.selection_set, fragments, set())
        if not f.name.value.startswith("__")
    ]


def count_aliases(document: DocumentNode) -> int:
    """Aliased fields as written (a fragment's aliases count once)."""
    count = 0
    stack: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.alias is not None:
                count += 1
            nested = getattr(selection, "selection_set", None)
            if nested is not None:
                stack.append(nested)
    return count
