"""Row-level scope as SQL: the conditions every memory read of the embedded
store (and its search index) adds for a :class:`RowScope`.

Values travel as the named parameters ``:scope_agent`` / ``:scope_user``;
an unrestricted scope adds nothing, so its SQL is unchanged.
"""

from __future__ import annotations

from typing import Any

from graph.access.scope import RowScope


def row_conditions(alias: str, scope: RowScope, params: dict[str, Any]) -> list[str]:
    """Conditions that keep the rows of ``alias`` (a memory or a search
    document, both with ``agent_id`` and ``user_id``) inside ``scope``."""
    conds: list[str] = []
    if scope.agent_id is not None:
        conds.append(f"{alias}.agent_id = :scope_agent")
        params["scope_agent"] = scope.agent_id
    if scope.user_id is not None:
        conds.append(f"{alias}.user_id = :scope_user")
        params["scope_user"] = scope.user_id
    return conds


def row_where(alias: str, scope: RowScope, params: dict[str, Any]) -> str:
    """:func:`row_conditions` as a string to append (`` AND ...``) or ``""``."""
    return "".join(f" AND {cond}" for cond in row_conditions(alias, scope, params))


def relation_ends(alias: str, scope: RowScope, params: dict[str, Any]) -> str:
    """`` AND ...`` leaving out relations (alias ``alias``) with an end outside
    ``scope``: a memory of another agent or user, or another agent; ``""``
    when unrestricted."""
    if scope.unrestricted:
        return ""
    ends = f"({alias}.source_id, {alias}.target_id)"
    outside = []
    if scope.agent_id is not None:
        params["scope_agent"] = scope.agent_id
        outside.append("sm.agent_id IS NOT :scope_agent")
    if scope.user_id is not None:
        params["scope_user"] = scope.user_id
        outside.append("sm.user_id IS NOT :scope_user")
    # Primary-key lookups only: the unary + keeps the planner off the tenant
    # indexes, which would scan the whole tenant per relation.
    text = (
        " AND NOT EXISTS (SELECT 1 FROM memories sm"
        f" WHERE sm.id IN {ends} AND +sm.tenant = :tenant AND ({' OR '.join(outside)}))"
    )
    if scope.agent_id is not None:
        text += (
            " AND NOT EXISTS (SELECT 1 FROM agents sa"
            f" WHERE sa.id IN {ends} AND +sa.tenant = :tenant AND sa.id <> :scope_agent)"
        )
    return text
