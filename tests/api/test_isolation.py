"""The isolation matrix: every root query, mutation and subscription, run by
an intruder against a victim's data, answers exactly as it does for ids that
were never issued, and changes nothing.

Intruders: an admin of another tenant, and, inside the victim's tenant,
credentials bound to another agent and to another user. For each probe the
response with the victim's real ids must equal the response with freshly made
ids (after swapping the ids back): ``NOT_FOUND``, ``null`` or empty results,
never ``FORBIDDEN``, and no victim id or content anywhere in it. The matrix
is checked against the live schema, so a new root field without a probe
fails ``test_every_root_field_has_a_probe``; see docs/isolation.md.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from graph.access.principal import Principal
from graph.ids import new_id
from graph.memory_graph import MemoryGraph
from graph.model import NodeKind
from resolvers.context import RequestContext
from schema.errors import coded
from tests.api.conftest import SCHEMA, Gql, ok

VICTIM = "victim"
ADMIN = frozenset({"admin"})
VICTIM_ADMIN = Principal.system(VICTIM)
SECRET_WORDS = ("orchid", "hyacinth")

KINDS: dict[str, NodeKind | None] = {
    "memory": NodeKind.MEMORY,
    "agent": NodeKind.AGENT,
    "relation": NodeKind.RELATION,
    "entity": NodeKind.ENTITY,
    "fact": NodeKind.FACT,
    "apikey": None,
}
"""Victim target kinds; ``None`` for API keys, whose ids are not node ids."""


def fake_id(kind: str) -> str:
    node_kind = KINDS[kind]
    return secrets.token_hex(8) if node_kind is None else new_id(node_kind)


@dataclass(frozen=True)
class Probe:
    query: str
    uses: frozenset[str] = frozenset()
    """The victim targets the operation names (keys of :data:`KINDS`)."""
    creates: bool = False
    """Whether a successful run makes new ids (so two runs never compare
    equal); such probes are checked for leaks only."""
    links: bool = False
    """For targets an intruder may see by design (an entity inside the
    tenant): run anyway and check only that nothing hidden leaks through them."""

    @property
    def subscription(self) -> bool:
        return self.query.lstrip().startswith("subscription")


def probe(query: str, *uses: str, creates: bool = False, links: bool = False) -> Probe:
    return Probe(query, frozenset(uses), creates, links)


MATRIX: dict[str, list[Probe]] = {
    "Query.node": [
        probe("query($memory: ID!) { node(id: $memory) { id } }", "memory"),
        probe("query($agent: ID!) { node(id: $agent) { id } }", "agent"),
        probe("query($relation: ID!) { node(id: $relation) { id } }", "relation"),
        probe("query($entity: ID!) { node(id: $entity) { id } }", "entity"),
        probe("query($fact: ID!) { node(id: $fact) { id } }", "fact"),
    ],
    "Query.agent": [
        probe(
            "query($agent: ID!) { agent(id: $agent) { id name memories { totalCount } } }",
            "agent",
        ),
        probe(
            "query($agent: ID!) { agent(id: $agent) { memories { edges { node { id content } } } } }",
            "agent",
            links=True,
        ),
    ],
    "Query.agents": [probe("{ agents(first: 100) { edges { node { id name } } } }")],
    # The trail is tenant-wide: another tenant sees its own; credentials bound
    # to an agent or user may not read it (FORBIDDEN names no target).
    "Query.auditLog": [
        probe("{ auditLog(first: 100) { edges { node { actor action targetIds detail } } } }")
    ],
    "Query.auditVerify": [probe("{ auditVerify { ok checked firstBrokenSeq } }")],
    "Query.memory": [
        probe(
            "query($memory: ID!) { memory(id: $memory) { id content history { content }"
            " related(depth: 3) { memory { id content } } relations { id } } }",
            "memory",
        )
    ],
    "Query.memories": [
        probe("{ memories(first: 100) { totalCount edges { node { id content } } } }"),
        probe(
            "query($agent: ID!) { memories(filter: {agentId: $agent}) {"
            " totalCount edges { node { id content } } } }",
            "agent",
        ),
        probe(
            'query { memories(filter: {userId: "victim-user"}) {'
            " totalCount edges { node { id content } } } }"
        ),
    ],
    "Query.search": [
        probe(
            f'query {{ search(query: "{SECRET_WORDS[0]}", mode: {mode}, expand: 2)'
            " { memory { id content } } }"
        )
        for mode in ("KEYWORD", "VECTOR", "HYBRID")
    ]
    + [
        probe(
            'query($agent: ID!) { search(query: "orchid", filter: {agentId: $agent})'
            " { memory { id content } } }",
            "agent",
        )
    ],
    "Query.entity": [
        probe(
            "query($entity: ID!) { entity(id: $entity) { id name memories { id }"
            " facts { id source { id } } } }",
            "entity",
        ),
        probe(
            "query($entity: ID!) { entity(id: $entity) { memories { id content }"
            " facts { source { id content } } } }",
            "entity",
            links=True,
        ),
    ],
    "Query.subgraph": [
        probe(
            "query($memory: ID!) { subgraph(ids: [$memory], depth: 2) { nodes { id } } }", "memory"
        ),
        probe("query($agent: ID!) { subgraph(ids: [$agent], depth: 2) { nodes { id } } }", "agent"),
        probe(
            "query($entity: ID!) { subgraph(ids: [$entity], depth: 2) { nodes { id } } }", "entity"
        ),
    ],
    "Mutation.createAgent": [
        probe('mutation { createAgent(name: "keeper") { id name } }', creates=True),
    ],
    "Mutation.addMemory": [
        probe(
            'mutation($agent: ID!) { addMemory(input: {agentId: $agent, content: "x"}) { id } }',
            "agent",
        ),
        probe(
            'mutation($agent: ID!) { addMemory(input: {agentId: $agent, content: "x2"}) {'
            " agent { memories { edges { node { id content } } } } } }",
            "agent",
            links=True,
        ),
    ],
    "Mutation.addMemories": [
        probe(
            "mutation($agent: ID!) { addMemories(inputs: ["
            '{content: "y"}, {agentId: $agent, content: "z"}]) { id } }',
            "agent",
        ),
        probe(
            'mutation($agent: ID!) { addMemories(inputs: [{agentId: $agent, content: "z2"}]) {'
            " agent { memories { edges { node { id content } } } } } }",
            "agent",
            links=True,
        ),
    ],
    "Mutation.updateMemory": [
        probe(
            'mutation($memory: ID!) { updateMemory(id: $memory, input: {content: "gone"}) { id } }',
            "memory",
        ),
        probe(
            "mutation($memory: ID!) { updateMemory(id: $memory, input: {importance: 0.9},"
            " expectedVersion: 1) { id } }",
            "memory",
        ),
    ],
    "Mutation.deleteMemory": [
        probe("mutation($memory: ID!) { deleteMemory(id: $memory) }", "memory")
    ],
    "Mutation.relate": [
        probe(
            "mutation($memory: ID!, $own: ID!) {"
            ' relate(sourceId: $own, targetId: $memory, type: "SEES") { id } }',
            "memory",
        ),
        probe(
            "mutation($agent: ID!, $own: ID!) {"
            ' relate(sourceId: $agent, targetId: $own, type: "SEES") { id } }',
            "agent",
        ),
        probe(
            "mutation($entity: ID!, $own: ID!) {"
            ' relate(sourceId: $own, targetId: $entity, type: "SEES") { id } }',
            "entity",
        ),
    ],
    "Mutation.unrelate": [
        probe("mutation($relation: ID!) { unrelate(id: $relation) }", "relation")
    ],
    "Mutation.addFact": [
        probe(
            'mutation($memory: ID!) { addFact(subject: "s", predicate: "P", object: "o",'
            " sourceMemoryId: $memory) { id } }",
            "memory",
        )
    ],
    "Mutation.forget": [
        probe(
            "mutation($entity: ID!) { forget(entityId: $entity) { entities facts relations } }",
            "entity",
        ),
        # Erases only inside the intruder's tenant and scope: nothing of the victim's
        # (the snapshot proves it); user-bound credentials are refused for any other user.
        probe('mutation { forget(userId: "victim-user") { memories versions relations facts } }'),
    ],
    "Query.apiKeys": [probe("{ apiKeys { id name roles agentId userId } }")],
    "Mutation.createApiKey": [
        probe(
            'mutation { createApiKey(input: {name: "k", roles: ["reader"]}) { key { id } } }',
            creates=True,
        )
    ],
    "Mutation.revokeApiKey": [
        probe("mutation($apikey: ID!) { revokeApiKey(id: $apikey) { id name } }", "apikey")
    ],
    "Mutation.rotateApiKey": [
        probe("mutation($apikey: ID!) { rotateApiKey(id: $apikey) { token } }", "apikey")
    ],
    "Subscription.memoryEvents": [
        probe("subscription($agent: ID!) { memoryEvents(agentId: $agent) { kind } }", "agent"),
        probe("subscription { memoryEvents { kind memory { id content } } }", creates=True),
    ],
}


@dataclass
class Intruder:
    name: str
    principal: Principal
    hidden: frozenset[str]
    """The victim target kinds that must not exist for this intruder."""
    own_memory: str = ""


INTRUDERS = ("other-tenant", "other-agent", "other-user")


@dataclass
class Victim:
    ids: dict[str, str]
    extra_ids: list[str]

    def secret_ids(self, hidden: frozenset[str]) -> list[str]:
        """The ids an intruder who must not see ``hidden`` kinds must never get."""
        return [*(self.ids[kind] for kind in sorted(hidden)), *self.extra_ids]


SNAPSHOT = """query($memory: ID!, $other: ID!, $relation: ID!, $agent: ID!, $entity: ID!, $fact: ID!) {
  memory(id: $memory) { version content importance history { version content } relations { id } }
  other: memory(id: $other) { version content }
  relation: node(id: $relation) { id }
  agent(id: $agent) { name }
  entity(id: $entity) { memories { id } facts { id source { id } } }
  fact: node(id: $fact) { id }
  memories { totalCount }
}"""


async def seed_victim(gql: Gql) -> Victim:
    def run(query: str, variables: dict[str, Any] | None = None) -> Any:
        return gql(query, variables, principal=VICTIM_ADMIN)

    agent = ok(await run('mutation { createAgent(name: "victim agent") { id } }'))["createAgent"][
        "id"
    ]
    added = ok(
        await run(
            "mutation($a: ID!) { addMemories(inputs: ["
            '{agentId: $a, userId: "victim-user", content: "victim orchid diary"},'
            '{agentId: $a, userId: "victim-user", content: "victim hyacinth notes"}]) { id } }',
            {"a": agent},
        )
    )["addMemories"]
    memory, other = added[0]["id"], added[1]["id"]
    relation = ok(
        await run(
            'mutation($s: ID!, $t: ID!) { relate(sourceId: $s, targetId: $t, type: "CAUSES") { id } }',
            {"s": memory, "t": other},
        )
    )["relate"]["id"]
    key = ok(
        await run(
            'mutation { createApiKey(input: {name: "victim orchid key", roles: ["writer"]}) {'
            " key { id } } }"
        )
    )["createApiKey"]["key"]["id"]
    fact = ok(
        await run(
            'mutation($m: ID!) { addFact(subject: "Grower", predicate: "GROWS",'
            ' object: "Bulb", sourceMemoryId: $m) { id subject { id } } }',
            {"m": memory},
        )
    )["addFact"]
    ids = {
        "memory": memory,
        "agent": agent,
        "relation": relation,
        "entity": fact["subject"]["id"],
        "fact": fact["id"],
        "apikey": key,
    }
    return Victim(ids, [other])


async def make_intruder(gql: Gql, name: str) -> Intruder:
    if name == "other-tenant":
        intruder = Intruder(name, Principal.system("intruder"), frozenset(KINDS))
    elif name == "other-agent":
        agent = ok(
            await gql(
                'mutation { createAgent(name: "intruder agent") { id } }', principal=VICTIM_ADMIN
            )
        )["createAgent"]["id"]
        principal = Principal("apikey:agent", VICTIM, ADMIN, agent_id=agent)
        hidden = frozenset({"memory", "agent", "relation", "apikey"})
        intruder = Intruder(name, principal, hidden)
    else:
        principal = Principal("apikey:user", VICTIM, ADMIN, user_id="intruder-user")
        intruder = Intruder(name, principal, frozenset({"memory", "relation", "apikey"}))
    own = ok(
        await gql(
            'mutation { addMemory(input: {content: "intruder own"}) { id } }',
            principal=intruder.principal,
        )
    )
    intruder.own_memory = own["addMemory"]["id"]
    return intruder


def formatted(result: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [coded(e).formatted for e in result.errors]
    return body


async def run_probe(
    gql: Gql, graph: MemoryGraph, intruder: Intruder, item: Probe, variables: dict[str, str]
) -> dict[str, Any]:
    if not item.subscription:
        return await gql(item.query, variables, principal=intruder.principal)
    context = RequestContext.create(graph, intruder.principal)
    stream = await SCHEMA.subscribe(item.query, variable_values=variables, context_value=context)
    if not isinstance(stream, AsyncIterator):
        return formatted(stream)
    try:
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        if not first.done():  # a live stream: the victim writes, then the intruder
            await gql(
                'mutation { addMemory(input: {content: "victim orchid late", userId: "victim-user"}) { id } }',
                principal=VICTIM_ADMIN,
            )
            await gql(
                "mutation($c: String!) { addMemory(input: {content: $c}) { id } }",
                {"c": f"intruder event {new_id(NodeKind.MEMORY)}"},  # never a duplicate
                principal=intruder.principal,
            )
        return formatted(await asyncio.wait_for(first, 10))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


def swapped(body: dict[str, Any], mapping: dict[str, str]) -> str:
    text = json.dumps(body, sort_keys=True)
    for fake, real in mapping.items():
        text = text.replace(fake, real)
    return text


@pytest.mark.parametrize("intruder_name", INTRUDERS)
async def test_the_victims_data_does_not_exist_for_an_intruder(
    gql: Gql, memory_graph: MemoryGraph, intruder_name: str
) -> None:
    victim = await seed_victim(gql)
    intruder = await make_intruder(gql, intruder_name)
    snapshot_vars = {**victim.ids, "other": victim.extra_ids[0]}
    before = ok(await gql(SNAPSHOT, snapshot_vars, principal=VICTIM_ADMIN))
    checked = 0
    for field, probes in MATRIX.items():
        for item in probes:
            leak_only = item.creates
            if not item.uses <= intruder.hidden:
                if not item.links:
                    continue  # names a target this intruder may see by design
                leak_only = True
            checked += 1
            fakes = {kind: fake_id(kind) for kind in item.uses}
            real = {**{k: victim.ids[k] for k in item.uses}, "own": intruder.own_memory}
            fake = {**fakes, "own": intruder.own_memory}
            with_real = await run_probe(gql, memory_graph, intruder, item, real)
            with_fake = await run_probe(gql, memory_graph, intruder, item, fake)
            text = json.dumps(with_real, sort_keys=True)
            assert '"FORBIDDEN"' not in text or not item.uses, (field, with_real)
            assert leak_only or text == swapped(
                with_fake, {fakes[k]: victim.ids[k] for k in item.uses}
            ), (
                field,
                item.query,
                with_real,
                with_fake,
            )
            shown = text
            for kind in item.uses:
                shown = shown.replace(victim.ids[kind], "<asked>")
            leaked = [
                x
                for x in (*victim.secret_ids(intruder.hidden), *SECRET_WORDS)
                if x in shown.lower() or x in shown
            ]
            assert not leaked, (field, intruder.name, leaked, with_real)
    assert checked >= len(MATRIX)
    after = ok(await gql(SNAPSHOT, snapshot_vars, principal=VICTIM_ADMIN))
    # Memories were added (the victim's during subscription probes, the
    # user-bound intruder's own to the victim's agent); the seeded ones are untouched.
    before["memories"] = after["memories"] = None
    assert after == before
    keys = await memory_graph.apikeys.list(VICTIM_ADMIN)
    assert [k.revoked_at for k in keys if k.id == victim.ids["apikey"]] == [None]


def root_fields() -> set[str]:
    schema = SCHEMA._schema
    roots = {
        "Query": schema.query_type,
        "Mutation": schema.mutation_type,
        "Subscription": schema.subscription_type,
    }
    return {f"{name}.{field}" for name, root in roots.items() if root for field in root.fields}


def test_every_root_field_has_a_probe() -> None:
    missing = sorted(root_fields() - set(MATRIX))
    assert not missing, (
        f"root fields without an isolation probe: {missing}; add them to MATRIX in "
        "tests/api/test_isolation.py (docs/isolation.md)"
    )
    assert not set(MATRIX) - root_fields(), "the matrix names fields the schema lacks"


def test_every_field_is_probed_for_every_intruder() -> None:
    hidden = {
        "other-tenant": frozenset(KINDS),
        "other-agent": frozenset({"memory", "agent", "relation", "apikey"}),
        "other-user": frozenset({"memory", "relation", "apikey"}),
    }
    for name, kinds in hidden.items():
        unprobed = [
            f for f, probes in MATRIX.items() if not any(p.uses <= kinds or p.links for p in probes)
        ]
        assert not unprobed, (name, unprobed)
