"""Field rules: who may read a field of which objects (pure code).

A :class:`FieldRule` names fields (``Memory.content``, ...), a permission
that exempts a principal (``require``), what happens to everyone else
(``deny``: the field reads as null; ``mask``: personal data in it is masked
even for holders of ``pii:read``), and conditions on the object that must
*all* hold for the rule to apply (:class:`Condition`).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from graph.access.principal import Principal
from graph.model import MemoryType, Sensitivity

MEMORY_CONTENT = "Memory.content"
VERSION_CONTENT = "MemoryVersion.content"
MEMORY_METADATA = "Memory.metadata"
AGENT_METADATA = "Agent.metadata"
MEMORY_FIELDS = frozenset({MEMORY_CONTENT, VERSION_CONTENT, MEMORY_METADATA})
"""Fields whose object is a memory (rules on them may carry conditions)."""
FIELDS = MEMORY_FIELDS | {AGENT_METADATA}
"""Every field a rule may name."""

SENSITIVITY_RANK = {level: rank for rank, level in enumerate(Sensitivity)}


class Effect(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    MASK = "mask"


class MemoryAttributes(Protocol):
    """What conditions look at: a domain memory has all of it."""

    @property
    def agent_id(self) -> str | None: ...
    @property
    def type(self) -> MemoryType: ...
    @property
    def sensitivity(self) -> Sensitivity: ...
    @property
    def tags(self) -> Collection[str]: ...


@dataclass(frozen=True, slots=True)
class Condition:
    """Conditions on a memory; each that is set must hold (logical AND).
    No condition set: the rule applies to every object of its fields."""

    types: frozenset[MemoryType] | None = None
    """The memory's type is one of these."""
    min_sensitivity: Sensitivity | None = None
    """The memory is at least this sensitive (PUBLIC < INTERNAL < CONFIDENTIAL < SECRET)."""
    other_agent: bool | None = None
    """``true``: the memory's agent is not the principal's (a principal bound to
    no agent has no memory of its own); ``false``: it is the principal's."""
    tags_any: frozenset[str] | None = None
    """The memory carries at least one of these tags."""

    @property
    def unconditional(self) -> bool:
        return (
            self.types is None
            and self.min_sensitivity is None
            and self.other_agent is None
            and self.tags_any is None
        )

    def matches(self, principal: Principal, memory: MemoryAttributes | None) -> bool:
        if memory is None:
            return self.unconditional
        if self.types is not None and memory.type not in self.types:
            return False
        if (
            self.min_sensitivity is not None
            and SENSITIVITY_RANK[memory.sensitivity] < SENSITIVITY_RANK[self.min_sensitivity]
        ):
            return False
        if self.other_agent is not None:
            others = principal.agent_id is None or memory.agent_id != principal.agent_id
            if others is not self.other_agent:
                return False
        return self.tags_any is None or not self.tags_any.isdisjoint(memory.tags)


@dataclass(frozen=True, slots=True)
class FieldRule:
    name: str
    fields: frozenset[str]
    effect: Effect
    """``DENY`` or ``MASK``: what a principal without ``require`` gets."""
    require: str | None = None
    """The permission that exempts a principal; ``None``: nobody is exempt."""
    when: Condition = Condition()
