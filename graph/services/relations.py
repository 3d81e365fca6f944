"""Relations between nodes and traversal of the graph they form.

Traversal is breadth-first and batched: each hop is one ``relations_of``
round trip for the whole frontier of every start node together, so the
number of store calls depends on the depth, never on how many nodes start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from graph import validation
from graph.access.scope import UNSCOPED, RowScope
from graph.errors import NotFound
from graph.ids import kind_of, new_id
from graph.limits import Limits
from graph.model import (
    Agent,
    Direction,
    Entity,
    Fact,
    JSONValue,
    Memory,
    NodeKind,
    RelatedMemory,
    Relation,
    Subgraph,
    utcnow,
)
from graph.ports import GraphStore

Node = Agent | Memory | Entity | Relation | Fact


@dataclass(slots=True)
class _Walk:
    """One start node's breadth-first walk."""

    start: str
    limit: int
    seen: set[str]
    paths: dict[str, tuple[Relation, ...]]
    found: list[tuple[str, int]]


class RelationService:
    def __init__(
        self, store: GraphStore, limits: Limits, on_write: Callable[[str], Awaitable[None]]
    ) -> None:
        self._store = store
        self._limits = limits
        self._on_write = on_write

    async def get_nodes(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Node]:
        """Nodes of any kind by global id; unknown and foreign ids, and ids
        outside the row scope, are absent."""
        by_kind: dict[NodeKind, list[str]] = {}
        for node_id in ids:
            kind = kind_of(node_id)
            if kind is not None:
                by_kind.setdefault(kind, []).append(node_id)
        store = self._store
        found: dict[str, Node] = {}
        for kind, kind_ids in by_kind.items():
            if kind is NodeKind.AGENT:
                agent_ids = scope.agents(kind_ids)
                found.update(await store.get_agents(tenant, agent_ids) if agent_ids else {})
            elif kind is NodeKind.MEMORY:
                found.update(await store.get_memories(tenant, kind_ids, scope))
            elif kind is NodeKind.ENTITY:
                found.update(await store.get_entities(tenant, kind_ids))
            elif kind is NodeKind.RELATION:
                found.update(await store.get_relations(tenant, kind_ids, scope))
            else:
                found.update(await store.get_facts(tenant, kind_ids))
        return found

    async def relate(
        self,
        tenant: str,
        source_id: str,
        target_id: str,
        relation_type: str,
        weight: float,
        properties: JSONValue,
        scope: RowScope = UNSCOPED,
    ) -> Relation:
        relation_type = validation.identifier(relation_type, "type")
        nodes = await self.get_nodes(tenant, [source_id, target_id], scope)
        for node_id in (source_id, target_id):
            if node_id not in nodes or kind_of(node_id) is NodeKind.RELATION:
                raise NotFound(f"No node with id {node_id!r}.", id=node_id)
        relation = Relation(
            id=new_id(NodeKind.RELATION),
            tenant=tenant,
            type=relation_type,
            source_id=source_id,
            target_id=target_id,
            weight=validation.weight(weight),
            properties=validation.metadata(properties, self._limits, "properties"),
            valid_from=None,
            valid_to=None,
            created_at=utcnow(),
        )
        await self._store.insert_relation(relation)
        await self._on_write(tenant)
        return relation

    async def unrelate(self, tenant: str, relation_id: str, scope: RowScope = UNSCOPED) -> None:
        """Delete a relation. Its ends never change, so the scoped read here
        decides for the write too."""
        visible = scope.unrestricted or bool(
            await self._store.get_relations(tenant, [relation_id], scope)
        )
        if not visible or not await self._store.delete_relation(tenant, relation_id):
            raise NotFound(f"No relation with id {relation_id!r}.", id=relation_id)
        await self._on_write(tenant)

    async def relations_of(
        self,
        tenant: str,
        node_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str] | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Relation]]:
        clean = _types(types)
        return await self._store.relations_of(tenant, node_ids, direction, clean, scope)

    async def related(
        self,
        tenant: str,
        memory_ids: Sequence[str],
        depth: int,
        types: Sequence[str] | None,
        limit: int,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[RelatedMemory]]:
        """Memories within ``depth`` hops of each start memory, nearest first.

        Walks relations in both directions through any node (two memories that
        mention one entity are two hops apart) and returns only memories.
        """
        validation.bounded(depth, 1, self._limits.max_depth, "depth")
        validation.bounded(limit, 0, self._limits.max_related, "limit")
        clean = _types(types)
        walks = [_Walk(s, limit, {s}, {s: ()}, []) for s in dict.fromkeys(memory_ids)]
        frontier: dict[str, list[_Walk]] = {}
        for walk in walks:
            frontier.setdefault(walk.start, []).append(walk)
        for distance in range(1, depth + 1):
            if not frontier:
                break
            edges = await self._store.relations_of(
                tenant, list(frontier), Direction.BOTH, clean, scope
            )
            next_frontier: dict[str, list[_Walk]] = {}
            for node_id, node_walks in frontier.items():
                for relation in edges.get(node_id, []):
                    other = (
                        relation.target_id if relation.source_id == node_id else relation.source_id
                    )
                    for walk in node_walks:
                        if other in walk.seen or len(walk.found) >= walk.limit:
                            continue
                        walk.seen.add(other)
                        walk.paths[other] = (*walk.paths[node_id], relation)
                        if kind_of(other) is NodeKind.MEMORY:
                            walk.found.append((other, distance))
                        next_frontier.setdefault(other, []).append(walk)
            frontier = next_frontier
        wanted = sorted({memory_id for w in walks for memory_id, _ in w.found})
        memories = await self._store.get_memories(tenant, wanted, scope) if wanted else {}
        return {
            walk.start: [
                RelatedMemory(memories[m], distance, walk.paths[m])
                for m, distance in walk.found
                if m in memories
            ]
            for walk in walks
        }

    async def subgraph(
        self,
        tenant: str,
        ids: Sequence[str],
        depth: int,
        limit: int,
        scope: RowScope = UNSCOPED,
    ) -> Subgraph:
        """The nodes within ``depth`` hops of ``ids`` (at most ``limit`` nodes)
        and the relations among them."""
        validation.bounded(depth, 0, self._limits.max_depth, "depth")
        validation.bounded(limit, 1, self._limits.max_subgraph_nodes, "limit")
        starts = list(dict.fromkeys(ids))
        nodes = await self.get_nodes(tenant, starts, scope)
        for node_id in starts:
            if node_id not in nodes or kind_of(node_id) is NodeKind.RELATION:
                raise NotFound(f"No node with id {node_id!r}.", id=node_id)
        order = starts[:limit]
        members = set(order)
        relations: dict[str, Relation] = {}
        frontier = list(order)
        for _ in range(depth):
            if not frontier or len(order) >= limit:
                break
            edges = await self._store.relations_of(tenant, frontier, Direction.BOTH, None, scope)
            discovered: list[str] = []
            for node_id in frontier:
                for relation in edges.get(node_id, []):
                    other = (
                        relation.target_id if relation.source_id == node_id else relation.source_id
                    )
                    if other not in members and len(order) < limit:
                        members.add(other)
                        order.append(other)
                        discovered.append(other)
                    if other in members:
                        relations[relation.id] = relation
            frontier = discovered
        # Relations among members found at the last hop.
        if frontier:
            edges = await self._store.relations_of(tenant, frontier, Direction.BOTH, None, scope)
            for rels in edges.values():
                for relation in rels:
                    if relation.source_id in members and relation.target_id in members:
                        relations[relation.id] = relation
        fetched = await self.get_nodes(tenant, [n for n in order if n not in nodes], scope)
        nodes.update(fetched)
        graph_nodes = [
            node for n in order if isinstance(node := nodes.get(n), Agent | Memory | Entity)
        ]
        return Subgraph(nodes=graph_nodes, relations=list(relations.values()))


def _types(types: Sequence[str] | None) -> list[str] | None:
    if not types:
        return None
    return [validation.identifier(t, "types") for t in types]
