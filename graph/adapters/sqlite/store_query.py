"""SQL for memory listings: one builder turns a MemoryFilter into a WHERE clause.

Parameters are named, so one piece of SQL can appear several times in a
statement (e.g. in a correlated sub-query per agent) with one parameter dict.
Without ``as_of`` the clause reads the current row of live memories (alias
``m``); with it, the version (alias ``v``) that was recorded and valid at that
instant, of memories created by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.adapters.sqlite.codec import json_list, to_db_time
from graph.adapters.sqlite.store_rows import CURRENT_MEMORY_COLUMNS, VERSION_MEMORY_COLUMNS
from graph.adapters.sqlite.store_scope import row_conditions
from graph.model import MemoryFilter
from graph.ports import Position

NEWEST_FIRST = "m.created_at DESC, m.id DESC"


@dataclass(slots=True)
class MemorySelect:
    """The pieces of a memory SELECT: columns, FROM, WHERE and named params."""

    columns: str
    source: str
    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    version_pick: list[str] = field(default_factory=list)
    """Conditions that pick the one version row per memory (as_of only)."""

    @property
    def where(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "1"


def memory_select(
    tenant: str,
    memory_filter: MemoryFilter,
    after: Position | None,
    *,
    agent_expr: str | None,
    scope: RowScope = UNSCOPED,
) -> MemorySelect:
    """Build the filter for one listing.

    ``agent_expr`` is the SQL the memory's agent id must equal (``":agent_id"``
    for the filter's own agent, a correlated column for per-agent batches) or
    ``None`` for no agent constraint. ``scope`` adds the caller's row scope.
    """
    f = memory_filter
    as_of = f.as_of
    params: dict[str, Any] = {"tenant": tenant}
    if as_of is None:
        select = MemorySelect(CURRENT_MEMORY_COLUMNS, "memories m", params=params)
        select.conditions += ["m.tenant = :tenant", "m.deleted_at IS NULL"]
        level_column = "m.level"
    else:
        select = MemorySelect(
            VERSION_MEMORY_COLUMNS,
            "memories m JOIN memory_versions v ON v.memory_id = m.id",
            params=params,
        )
        params["as_of"] = to_db_time(as_of)
        select.version_pick = [
            "v.recorded_at <= :as_of",
            "(v.expired_at IS NULL OR v.expired_at > :as_of)",
        ]
        select.conditions += [
            "m.tenant = :tenant",
            "v.tenant = :tenant",
            "m.created_at <= :as_of",
            *select.version_pick,
            "(v.valid_from IS NULL OR v.valid_from <= :as_of)",
            "(v.valid_to IS NULL OR v.valid_to > :as_of)",
        ]
        level_column = "v.level"
    conds = select.conditions
    conds += row_conditions("m", scope, params)
    if agent_expr is not None:
        conds.append(f"m.agent_id = {agent_expr}")
        if agent_expr == ":agent_id":
            params["agent_id"] = f.agent_id
    if f.user_id is not None:
        conds.append("m.user_id = :user_id")
        params["user_id"] = f.user_id
    if f.session_id is not None:
        conds.append("m.session_id = :session_id")
        params["session_id"] = f.session_id
    if f.types:
        conds.append("m.type IN (SELECT value FROM json_each(:types))")
        params["types"] = json_list(t.value for t in f.types)
    if f.levels:
        conds.append(f"{level_column} IN (SELECT value FROM json_each(:levels))")
        params["levels"] = json_list(level.value for level in f.levels)
    if f.created_after is not None:
        conds.append("m.created_at > :created_after")
        params["created_after"] = to_db_time(f.created_after)
    if f.created_before is not None:
        conds.append("m.created_at < :created_before")
        params["created_before"] = to_db_time(f.created_before)
    if f.tags:
        tags = list(dict.fromkeys(f.tags))
        if as_of is None:
            for number, tag in enumerate(tags):
                params[f"tag_{number}"] = tag
                conds.append(
                    "m.id IN (SELECT t.memory_id FROM memory_tags t"
                    f" WHERE t.tenant = :tenant AND t.tag = :tag_{number})"
                )
        else:
            params["tags"] = json_list(tags)
            params["tag_count"] = len(tags)
            conds.append(
                "(SELECT count(DISTINCT j.value) FROM json_each(v.tags) j"
                " WHERE j.value IN (SELECT value FROM json_each(:tags))) = :tag_count"
            )
    if after is not None:
        conds.append("(m.created_at, m.id) < (:after_created, :after_id)")
        params["after_created"] = to_db_time(after[0])
        params["after_id"] = after[1]
    return select


def agent_constraint(memory_filter: MemoryFilter) -> str | None:
    """The agent expression for a plain listing: the filter's agent, if any."""
    return ":agent_id" if memory_filter.agent_id is not None else None
