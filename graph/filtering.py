"""In-memory evaluation of a :class:`MemoryFilter`, for results that did not
come from a filtered store query (search expansion, subscriptions)."""

from __future__ import annotations

from graph.model import Memory, MemoryFilter


def matches(memory: Memory, memory_filter: MemoryFilter) -> bool:
    f = memory_filter
    if f.agent_id is not None and memory.agent_id != f.agent_id:
        return False
    if f.user_id is not None and memory.user_id != f.user_id:
        return False
    if f.session_id is not None and memory.session_id != f.session_id:
        return False
    if f.types and memory.type not in f.types:
        return False
    if f.levels and memory.level not in f.levels:
        return False
    if f.tags and not set(f.tags).issubset(memory.tags):
        return False
    if f.created_after is not None and not memory.created_at > f.created_after:
        return False
    if f.created_before is not None and not memory.created_at < f.created_before:
        return False
    if f.as_of is not None:
        if memory.created_at > f.as_of:
            return False
        if memory.valid_from is not None and memory.valid_from > f.as_of:
            return False
        if memory.valid_to is not None and memory.valid_to <= f.as_of:
            return False
    return True
