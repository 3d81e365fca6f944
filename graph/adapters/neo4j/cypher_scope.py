"""Row-level scope as Cypher: the predicates every memory read of the Neo4j
store adds for a :class:`RowScope`.

Values travel as the parameters ``$scope_agent`` / ``$scope_user``; the text
is built from constants only. An unrestricted scope adds nothing, so its
statements are unchanged.
"""

from __future__ import annotations

from typing import Any

from graph.access.scope import RowScope


def memory_conditions(alias: str, scope: RowScope, params: dict[str, Any]) -> list[str]:
    """Predicates keeping the ``:Memory`` node ``alias`` inside ``scope``."""
    conds: list[str] = []
    if scope.agent_id is not None:
        conds.append(f"{alias}.agent_id = $scope_agent")
        params["scope_agent"] = scope.agent_id
    if scope.user_id is not None:
        conds.append(f"{alias}.user_id = $scope_user")
        params["scope_user"] = scope.user_id
    return conds


def memory_where(alias: str, scope: RowScope, params: dict[str, Any]) -> str:
    """:func:`memory_conditions` as `` AND ...`` to append, or ``""``."""
    return "".join(f" AND {cond}" for cond in memory_conditions(alias, scope, params))


def relation_ends(alias: str, scope: RowScope, params: dict[str, Any]) -> str:
    """`` AND ...`` leaving out the relationship ``alias`` when one of its ends
    lies outside ``scope`` (a memory of another agent or user, another agent);
    ``""`` when unrestricted."""
    if scope.unrestricted:
        return ""
    inside = " AND ".join(
        f"coalesce({cond}, false)" for cond in memory_conditions("x", scope, params)
    )
    outside = [f"(x:Memory AND NOT ({inside}))"]
    if scope.agent_id is not None:
        outside.append("(x:Agent AND x.id <> $scope_agent)")
    return (
        f" AND all(x IN [startNode({alias}), endNode({alias})] WHERE NOT ({' OR '.join(outside)}))"
    )
