"""Policy decisions as pure functions: (principal, permission or field,
object attributes) -> allow / deny / mask(strategy). No server involved."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from graph.access.masking import Strategy
from graph.access.policy import (
    ALLOW,
    DENY,
    MEMORY_READ,
    MEMORY_WRITE,
    PII_READ,
    SEARCH,
    VAULT_READ,
    Decision,
    Policy,
)
from graph.access.principal import Principal
from graph.access.rules import (
    AGENT_METADATA,
    MEMORY_CONTENT,
    MEMORY_METADATA,
    VERSION_CONTENT,
    Condition,
    Effect,
    FieldRule,
)
from graph.errors import Forbidden
from graph.model import MemoryType, Sensitivity

MASKED = Decision(Effect.MASK, Strategy.MASK)


@dataclass(frozen=True)
class Mem:
    type: MemoryType = MemoryType.EPISODIC
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    agent_id: str | None = "agt_a"
    tags: tuple[str, ...] = field(default=())


def who(*roles: str, agent: str | None = None) -> Principal:
    return Principal("apikey:1", "default", frozenset(roles), agent_id=agent)


ADMIN, WRITER, READER, AUDITOR = who("admin"), who("writer"), who("reader"), who("auditor")
VAULT = Mem(type=MemoryType.KNOWLEDGE_VAULT)


def both(policy: Policy, principal: Principal, name: str, memory: Mem | None) -> Decision:
    """The decision, asserting that the compiled view agrees with the reference."""
    decision = policy.decide(principal, name, memory)
    assert policy.view(principal).decide(name, memory) == decision
    return decision


@pytest.mark.parametrize(
    ("principal", "name", "memory", "expected"),
    [
        (ADMIN, MEMORY_CONTENT, Mem(), ALLOW),
        (ADMIN, MEMORY_CONTENT, VAULT, ALLOW),
        (ADMIN, MEMORY_METADATA, Mem(), ALLOW),
        (WRITER, MEMORY_CONTENT, Mem(), MASKED),
        (WRITER, VERSION_CONTENT, VAULT, MASKED),
        (WRITER, MEMORY_METADATA, Mem(), MASKED),
        (READER, MEMORY_CONTENT, Mem(), MASKED),
        (READER, MEMORY_CONTENT, VAULT, DENY),
        (READER, VERSION_CONTENT, VAULT, DENY),
        (READER, MEMORY_METADATA, Mem(), DENY),
        (READER, AGENT_METADATA, None, DENY),
        (AUDITOR, MEMORY_CONTENT, Mem(), Decision(Effect.MASK, Strategy.REDACT)),
    ],
)
def test_default_policy_decisions(
    principal: Principal, name: str, memory: Mem | None, expected: Decision
) -> None:
    assert both(Policy(), principal, name, memory) == expected


@pytest.mark.parametrize(
    ("principal", "permission", "allowed"),
    [
        (ADMIN, MEMORY_WRITE, True),
        (WRITER, MEMORY_WRITE, True),
        (WRITER, PII_READ, False),
        (READER, SEARCH, True),
        (READER, MEMORY_WRITE, False),
        (AUDITOR, MEMORY_READ, False),
        (who(), MEMORY_READ, False),
        (who("no-such-role"), MEMORY_READ, False),
    ],
)
def test_permissions_by_role(principal: Principal, permission: str, allowed: bool) -> None:
    policy = Policy()
    assert policy.allows(principal, permission) is allowed
    assert policy.view(principal).allows(permission) is allowed


def test_require_names_the_missing_permission() -> None:
    with pytest.raises(Forbidden, match="memory:write") as raised:
        Policy().view(READER).require(MEMORY_WRITE)
    assert raised.value.code == "FORBIDDEN"


def test_several_roles_grant_the_union_and_mask_the_strictest_way() -> None:
    policy = Policy()
    both_roles = who("reader", "auditor")
    assert policy.allows(both_roles, "audit:read") and policy.allows(both_roles, SEARCH)
    assert both(policy, both_roles, MEMORY_CONTENT, Mem()) == Decision(Effect.MASK, Strategy.REDACT)
    assert both(policy, who("reader", "writer"), MEMORY_CONTENT, VAULT) == MASKED


SECRET_VAULT_OF_OTHERS = FieldRule(
    "secret vault content of other agents",
    frozenset({MEMORY_CONTENT}),
    Effect.DENY,
    require=VAULT_READ,
    when=Condition(
        types=frozenset({MemoryType.KNOWLEDGE_VAULT}),
        min_sensitivity=Sensitivity.CONFIDENTIAL,
        other_agent=True,
    ),
)
MULTI = Policy(rules=(SECRET_VAULT_OF_OTHERS,))
BOUND_READER = who("reader", agent="agt_a")


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        # every condition holds: the rule applies
        (Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.CONFIDENTIAL, "agt_b"), DENY),
        (Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, "agt_b"), DENY),
        (Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, None), DENY),
        # any one condition fails: it does not
        (Mem(MemoryType.SEMANTIC, Sensitivity.SECRET, "agt_b"), MASKED),
        (Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.INTERNAL, "agt_b"), MASKED),
        (Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, "agt_a"), MASKED),
    ],
)
def test_a_multi_condition_rule_applies_only_when_all_conditions_hold(
    memory: Mem, expected: Decision
) -> None:
    assert both(MULTI, BOUND_READER, MEMORY_CONTENT, memory) == expected


def test_a_principal_bound_to_no_agent_owns_no_memory() -> None:
    memory = Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, "agt_a")
    assert both(MULTI, READER, MEMORY_CONTENT, memory) == DENY


def test_the_required_permission_exempts() -> None:
    memory = Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, "agt_b")
    assert both(MULTI, who("writer", agent="agt_a"), MEMORY_CONTENT, memory) == MASKED
    assert both(MULTI, who("admin", agent="agt_a"), MEMORY_CONTENT, memory) == ALLOW


def test_a_mask_rule_masks_even_for_pii_readers_and_deny_beats_mask() -> None:
    tagged = FieldRule(
        "private tag",
        frozenset({MEMORY_CONTENT}),
        Effect.MASK,
        when=Condition(tags_any=frozenset({"private"}), other_agent=True),
    )
    policy = Policy(rules=(tagged, SECRET_VAULT_OF_OTHERS))
    boss = who("admin", agent="agt_a")
    assert both(policy, boss, MEMORY_CONTENT, Mem(tags=("private",), agent_id="agt_b")) == MASKED
    assert both(policy, boss, MEMORY_CONTENT, Mem(tags=("private",))) == ALLOW
    assert both(policy, boss, MEMORY_CONTENT, Mem(tags=("public",), agent_id="agt_b")) == ALLOW
    secret = Mem(MemoryType.KNOWLEDGE_VAULT, Sensitivity.SECRET, "agt_b", ("private",))
    assert both(policy, BOUND_READER, MEMORY_CONTENT, secret) == DENY


def test_views_are_compiled_once_per_role_set() -> None:
    policy = Policy()
    first = policy.view(who("reader", agent="agt_a"))
    second = policy.view(who("reader", agent="agt_b"))
    assert first._compiled is second._compiled
    assert first.principal.agent_id == "agt_a"
