"""Which role may do what (pure code): roles map to permissions, field
rules decide who reads which fields of which objects, and each role has a
masking strategy for personal data.

The default roles are ``admin``, ``writer``, ``reader`` and ``auditor``.
Permission names are ``<area>:<verb>``; ``*`` grants every permission.
A policy file (:mod:`graph.access.policy_file`) can replace any part.

A decision is a pure function of (principal, field, the object's attributes)
and is one of: allow (clear text), deny (the field reads as null), or mask
with a strategy. :meth:`Policy.decide` states it; :meth:`Policy.view`
compiles the same decision once per role set, for the per-field hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.access.masking import Strategy
from graph.access.principal import Principal
from graph.access.rules import (
    AGENT_METADATA,
    MEMORY_CONTENT,
    MEMORY_METADATA,
    VERSION_CONTENT,
    Condition,
    Effect,
    FieldRule,
    MemoryAttributes,
)
from graph.errors import Forbidden
from graph.model import MemoryType

MEMORY_READ = "memory:read"
MEMORY_WRITE = "memory:write"
AGENT_READ = "agent:read"
AGENT_WRITE = "agent:write"
GRAPH_WRITE = "graph:write"
"""Relations and facts."""
SEARCH = "search"
SUBSCRIBE = "subscribe"
METADATA_READ = "metadata:read"
VAULT_READ = "vault:read"
"""Clear content of KNOWLEDGE_VAULT memories."""
PII_READ = "pii:read"
"""Personal data unmasked (every such read is audited)."""
APIKEY_ADMIN = "apikey:admin"
AUDIT_READ = "audit:read"
FORGET = "forget"
ALL = "*"
PERMISSIONS = frozenset(
    {
        MEMORY_READ,
        MEMORY_WRITE,
        AGENT_READ,
        AGENT_WRITE,
        GRAPH_WRITE,
        SEARCH,
        SUBSCRIBE,
        METADATA_READ,
        VAULT_READ,
        PII_READ,
        APIKEY_ADMIN,
        AUDIT_READ,
        FORGET,
        ALL,
    }
)
"""Every permission name a policy file may grant."""

_READ = frozenset({MEMORY_READ, AGENT_READ, SEARCH, SUBSCRIBE})
DEFAULT_ROLES: Mapping[str, frozenset[str]] = {
    "admin": frozenset({ALL}),
    "writer": _READ | {MEMORY_WRITE, AGENT_WRITE, GRAPH_WRITE, METADATA_READ, VAULT_READ},
    "reader": _READ,
    "auditor": frozenset({AUDIT_READ, AGENT_READ}),
}


DEFAULT_MASKING: Mapping[str, Strategy] = {"auditor": Strategy.REDACT}
"""Roles whose strategy is not the policy's default (``mask``)."""
DEFAULT_RULES: tuple[FieldRule, ...] = (
    FieldRule(
        "vault content",
        frozenset({MEMORY_CONTENT, VERSION_CONTENT}),
        Effect.DENY,
        require=VAULT_READ,
        when=Condition(types=frozenset({MemoryType.KNOWLEDGE_VAULT})),
    ),
    FieldRule(
        "metadata",
        frozenset({MEMORY_METADATA, AGENT_METADATA}),
        Effect.DENY,
        require=METADATA_READ,
    ),
)
STRICTNESS = (Strategy.MASK, Strategy.HASH, Strategy.REDACT)
"""Least to most protective: a principal with several roles gets the most
protective of their strategies."""


@dataclass(frozen=True, slots=True)
class Decision:
    effect: Effect
    strategy: Strategy | None = None
    """For ``MASK``: how personal data is hidden."""


ALLOW = Decision(Effect.ALLOW)
DENY = Decision(Effect.DENY)
_MASKED = {strategy: Decision(Effect.MASK, strategy) for strategy in Strategy}


@dataclass(frozen=True, slots=True)
class Policy:
    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    masking: Mapping[str, Strategy] = field(default_factory=lambda: dict(DEFAULT_MASKING))
    default_strategy: Strategy = Strategy.MASK
    rules: tuple[FieldRule, ...] = DEFAULT_RULES
    phone_regions: tuple[str, ...] = ("US",)
    """Regions whose national phone formats PII detection recognises."""
    _compiled: dict[frozenset[str], _Compiled] = field(
        default_factory=dict, compare=False, repr=False
    )

    def permissions(self, principal: Principal) -> frozenset[str]:
        granted: set[str] = set()
        for role in principal.roles:
            granted |= self.roles.get(role, frozenset())
        return frozenset(granted)

    def allows(self, principal: Principal, permission: str) -> bool:
        granted = self.permissions(principal)
        return ALL in granted or permission in granted

    def require(self, principal: Principal, permission: str) -> None:
        """Raise ``FORBIDDEN`` unless ``principal`` holds ``permission``."""
        if not self.allows(principal, permission):
            raise Forbidden(f"This operation needs the {permission!r} permission.")

    def strategy(self, principal: Principal) -> Strategy:
        """How personal data is masked for ``principal`` (its most protective role's way)."""
        chosen = [self.masking.get(role, self.default_strategy) for role in principal.roles]
        return max(chosen, key=STRICTNESS.index, default=self.default_strategy)

    def decide(
        self, principal: Principal, field_name: str, memory: MemoryAttributes | None = None
    ) -> Decision:
        """May ``principal`` read ``field_name`` of this object, and how?

        Every rule on the field that the principal is not exempt from and whose
        conditions all hold applies; ``deny`` beats ``mask``. Otherwise holders
        of ``pii:read`` read clear text and everyone else reads it masked.
        """
        masked = _MASKED[self.strategy(principal)]
        result = ALLOW if self.allows(principal, PII_READ) else masked
        for rule in self.rules:
            if field_name not in rule.fields:
                continue
            if rule.require is not None and self.allows(principal, rule.require):
                continue
            if rule.when.matches(principal, memory):
                if rule.effect is Effect.DENY:
                    return DENY
                result = masked
        return result

    def view(self, principal: Principal) -> AccessView:
        """The decisions for ``principal``, compiled once per role set."""
        compiled = self._compiled.get(principal.roles)
        if compiled is None:
            compiled = self._compile(principal)
            self._compiled[principal.roles] = compiled
        return AccessView(principal, compiled)

    def _compile(self, principal: Principal) -> _Compiled:
        granted = self.permissions(principal)
        masked = _MASKED[self.strategy(principal)]
        clear = ALL in granted or PII_READ in granted
        by_field: dict[str, list[FieldRule]] = {}
        for rule in self.rules:
            if rule.require is not None and (ALL in granted or rule.require in granted):
                continue
            for name in rule.fields:
                by_field.setdefault(name, []).append(rule)
        return _Compiled(
            granted=granted,
            everything=ALL in granted,
            base=ALLOW if clear else masked,
            masked=masked,
            rules={name: tuple(rules) for name, rules in by_field.items()},
        )


@dataclass(frozen=True, slots=True)
class _Compiled:
    granted: frozenset[str]
    everything: bool
    base: Decision
    masked: Decision
    rules: Mapping[str, tuple[FieldRule, ...]]


class AccessView:
    """One principal's decisions, cheap enough to ask per field: a set lookup
    per permission, and per field only the rules that can apply to it."""

    __slots__ = ("_compiled", "principal")

    def __init__(self, principal: Principal, compiled: _Compiled) -> None:
        self.principal = principal
        self._compiled = compiled

    @property
    def clear_pii(self) -> bool:
        """Whether personal data reads in clear (the ``pii:read`` permission)."""
        return self._compiled.base is ALLOW

    @property
    def strategy(self) -> Strategy:
        strategy = self._compiled.masked.strategy
        assert strategy is not None
        return strategy

    def allows(self, permission: str) -> bool:
        compiled = self._compiled
        return compiled.everything or permission in compiled.granted

    def require(self, permission: str) -> None:
        """Raise ``FORBIDDEN`` unless the principal holds ``permission``."""
        if not self.allows(permission):
            raise Forbidden(f"This operation needs the {permission!r} permission.")

    def decide(self, field_name: str, memory: MemoryAttributes | None = None) -> Decision:
        """As :meth:`Policy.decide`, for this view's principal."""
        compiled = self._compiled
        rules = compiled.rules.get(field_name)
        if rules is None:
            return compiled.base
        result = compiled.base
        for rule in rules:
            if rule.when.matches(self.principal, memory):
                if rule.effect is Effect.DENY:
                    return DENY
                result = compiled.masked
        return result
