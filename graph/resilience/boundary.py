"""Which port methods may be retried, and one guard per backend.

A method is listed as idempotent when repeating it after a failure cannot
change the outcome: reads, upserts keyed by id, deletes of named keys, the
outbox acknowledgement. Inserts, compare-and-set updates and soft deletes are
never retried here (the Neo4j driver retries a transaction only when it
certainly did not commit; see docs/resilience.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.resilience.breaker import BreakerPolicy, CircuitBreaker
from graph.resilience.guard import Guard
from graph.resilience.retry import NO_RETRY, RetryPolicy

GRAPH_IDEMPOTENT = frozenset(
    {
        "get_agents",
        "list_agents",
        "find_memories_by_hash",
        "get_memories",
        "list_memories",
        "list_memories_for_agents",
        "count_memories_for_agents",
        "memory_history",
        "get_relations",
        "relations_of",
        "upsert_entity",
        "find_entities_by_name",
        "get_entities",
        "get_facts",
        "facts_for_entities",
        "keyword_fallback",
        "pending_index_work",
        "ack_index_work",
        "outbox_stats",
        "tenants",
        "live_memory_versions",
        "import_records",  # upserts by id: replaying a batch converges
        "is_empty",
    }
)
SEARCH_IDEMPOTENT = frozenset({"upsert", "delete", "search", "indexed_versions"})
CACHE_IDEMPOTENT = frozenset({"get", "get_with_ttl", "set", "delete"})
EMBEDDER_IDEMPOTENT = frozenset({"embed"})


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    """How every backend's breaker behaves and how idempotent calls retry."""

    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class BreakerBoard:
    """The breakers of one backend set, by backend name, in creation order."""

    def __init__(self, policy: ResiliencePolicy | None = None) -> None:
        self.policy = policy or ResiliencePolicy()
        self.breakers: dict[str, CircuitBreaker] = {}

    def guard(self, backend: str, *, retry: bool = True) -> Guard:
        """A guard on ``backend``'s breaker (created on first use, then
        shared); ``retry=False`` for backends whose client retries itself."""
        breaker = self.breakers.get(backend)
        if breaker is None:
            breaker = CircuitBreaker(backend, self.policy.breaker)
            self.breakers[backend] = breaker
        return Guard(breaker, self.policy.retry if retry else NO_RETRY)
