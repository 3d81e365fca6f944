"""Builds a varied graph and dumps a store canonically, so two stores (of
any backend sets) can be compared node by node, relation by relation and
memory version by memory version.

The dump reads through the public :class:`graph.ports.GraphStore` reads (not
the export the backup itself uses), so a field the export forgot shows up as
a difference.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph.memory_graph import MemoryGraph
from graph.model import Direction, MemoryFilter, MemoryLevel, MemoryType, Sensitivity, utcnow
from graph.ports import GraphStore
from graph.services.memories import MemoryPatch, NewMemory
from graph.vault.cipher import VaultCipher
from graph.vault.keys import KeySource


@dataclass
class TenantIds:
    agents: list[str] = field(default_factory=list)
    memories: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


@dataclass
class GraphIds:
    """Every id a build created, per tenant, and instants to read ``asOf``."""

    tenants: dict[str, TenantIds] = field(default_factory=dict)
    instants: list[datetime] = field(default_factory=list)

    def of(self, tenant: str) -> TenantIds:
        return self.tenants.setdefault(tenant, TenantIds())


async def _tick() -> datetime:
    """An instant strictly between what came before and what comes next."""
    await asyncio.sleep(0.003)
    at = utcnow()
    await asyncio.sleep(0.003)
    return at


async def build_graph(graph: MemoryGraph, ids: GraphIds, tenant: str, round_: int) -> None:
    """Agents, memories updated several times and deleted, relations made and
    unmade, entities, exclusive facts closing earlier ones, both time axes."""
    t = ids.of(tenant)
    mem, rel, facts = graph.memories, graph.relations, graph.facts
    scout = await mem.create_agent(tenant, f"scout-{round_}", "watches the pier", {"team": "red"})
    clerk = await mem.create_agent(tenant, f"clerk-{round_}", None, None)
    t.agents += [scout.id, clerk.id]
    added = await mem.add(
        tenant,
        [
            NewMemory(
                f"the gull stole a sandwich ({round_})",
                agent_id=scout.id,
                tags=["bird", "pier"],
                metadata={"mood": "cross", "n": 1.5},
                valid_from=datetime(2021, 3, 4, 5, 6, 7, 123000, tzinfo=UTC),
            ),
            NewMemory(
                f"the harbour opens at dawn ({round_})",
                agent_id=clerk.id,
                type=MemoryType.SEMANTIC,
                level=MemoryLevel.STRATEGIC,
                user_id="u-1",
                session_id="s-1",
                importance=0.9,
                sensitivity=Sensitivity.CONFIDENTIAL,
            ),
            NewMemory(f"vault note {round_}: ciphertext stays", type=MemoryType.KNOWLEDGE_VAULT),
            NewMemory(f"a memory without an agent ({round_})", tags=["loose"]),
        ],
    )
    m1, m2, m3, m4 = (m.id for m in added)
    t.memories += [m1, m2, m3, m4]
    to_deleted = await rel.relate(tenant, m2, m4, "FOLLOWS", 1.0, None)
    ids.instants.append(await _tick())
    await mem.update(
        tenant, m1, MemoryPatch(content=f"the gull stole two sandwiches ({round_})"), 1
    )
    await mem.update(tenant, m1, MemoryPatch(tags=["bird"], importance=0.2, metadata={"v": 3}), 2)
    await mem.update(tenant, m2, MemoryPatch(valid_to=datetime(2030, 1, 1, tzinfo=UTC)), None)
    await mem.delete(tenant, m4)
    ids.instants.append(await _tick())
    supports = await rel.relate(tenant, m1, m2, "SUPPORTS", 0.5, {"why": "same pier"})
    authored = await rel.relate(tenant, scout.id, m1, "AUTHORED", 1.0, None)
    gone = await rel.relate(tenant, m3, m1, "CONTRADICTS", 0.1, None)
    await rel.unrelate(tenant, gone.id)
    t.relations += [supports.id, authored.id, gone.id, to_deleted.id]
    first = await facts.add_fact(
        tenant,
        "Ada Lovelace",
        "works_at",
        "Acme",
        subject_kind="PERSON",
        object_kind="ORGANIZATION",
        exclusive=True,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        source_memory_id=m2,
    )
    ids.instants.append(await _tick())
    second = await facts.add_fact(
        tenant, "ada  lovelace", "works_at", f"Globex {round_}", exclusive=True
    )
    third = await facts.add_fact(tenant, "Ada Lovelace", "knows", "Bob", source_memory_id=m1)
    t.facts += [first.id, second.id, third.id]
    for fact in (first, second, third):
        t.entities += [fact.subject_id, fact.object_id]
    mention = await rel.relate(tenant, m3, first.object_id, "MENTIONS", 1.0, {"span": [0, 4]})
    t.relations.append(mention.id)
    nodes = t.agents + t.memories + t.entities + t.facts
    for found in (
        await graph.backends.store.relations_of(tenant, nodes, Direction.BOTH, None)
    ).values():
        t.relations += [r.id for r in found]
    t.entities = list(dict.fromkeys(t.entities))
    t.relations = list(dict.fromkeys(t.relations))
    ids.instants.append(await _tick())


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def dump_store(store: GraphStore, ids: GraphIds) -> dict[str, Any]:
    """Everything the public reads return for the ids of ``ids``, canonically."""
    out: dict[str, Any] = {"tenants": await store.tenants()}
    for tenant, t in sorted(ids.tenants.items()):
        nodes = t.agents + t.memories + t.entities + t.facts
        listings = {}
        for at in [None, *ids.instants]:
            page = await store.list_memories(tenant, MemoryFilter(as_of=at), 100, None)
            listings[str(at)] = page
        facts_at = {
            str(at): await store.facts_for_entities(tenant, t.entities, at or utcnow())
            for at in [None, *ids.instants]
        }
        out[tenant] = _plain(
            {
                "agents": await store.get_agents(tenant, t.agents),
                "memories": await store.get_memories(tenant, t.memories),
                "history": await store.memory_history(tenant, t.memories),
                "live_versions": await store.live_memory_versions(tenant),
                "entities": await store.get_entities(tenant, t.entities),
                "relations": await store.get_relations(tenant, t.relations),
                "relations_of": await store.relations_of(tenant, nodes, Direction.BOTH, None),
                "facts": await store.get_facts(tenant, t.facts),
                "facts_at": {k: v for k, v in facts_at.items() if k != "None"},
                "listings": listings,
            }
        )
    return out


async def export_dump(store: GraphStore) -> dict[str, list[dict[str, Any]]]:
    """The store's full export (deleted rows included), sorted by id."""
    found: dict[str, list[dict[str, Any]]] = {}
    await store.export_graph(None, lambda kind, r: found.setdefault(kind, []).append(r))
    return {kind: sorted(rows, key=lambda r: r["id"]) for kind, rows in sorted(found.items())}


TEST_VAULT = VaultCipher(
    KeySource(value="backup-test:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
)
"""The vault keys of the backed-up graphs (backups carry vault content sealed)."""
