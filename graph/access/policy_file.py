"""Reading a :class:`~graph.access.policy.Policy` from a TOML file.

Each section that the file has replaces that part of the built-in policy
whole; a section it lacks keeps the default::

    [roles]                       # role -> permissions
    admin = ["*"]
    reader = ["memory:read", "agent:read", "search", "subscribe"]

    [masking]                     # how each role sees personal data
    default = "mask"              # mask | redact | hash
    roles = { auditor = "redact" }

    [pii]
    phone_regions = ["US", "GB"]  # national phone formats to recognise

    [[rules]]                     # field rules (all conditions must hold)
    name = "secret vault content of other agents"
    fields = ["Memory.content", "MemoryVersion.content"]
    require = "vault:read"        # who is exempt
    effect = "deny"               # deny (null) | mask
    when = { types = ["KNOWLEDGE_VAULT"], min_sensitivity = "CONFIDENTIAL", other_agent = true }

Anything malformed raises :class:`PolicyError` naming the file and the entry,
so a server refuses to start with a policy it cannot enforce as written.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers

from graph.access.masking import Strategy
from graph.access.policy import DEFAULT_MASKING, DEFAULT_ROLES, DEFAULT_RULES, PERMISSIONS, Policy
from graph.access.rules import FIELDS, MEMORY_FIELDS, Condition, Effect, FieldRule
from graph.model import MemoryType, Sensitivity

E = TypeVar("E", bound=enum.Enum)

_SECTIONS = {"roles", "masking", "pii", "rules"}
_RULE_KEYS = {"name", "fields", "require", "effect", "when"}
_CONDITION_KEYS = {"types", "min_sensitivity", "other_agent", "tags_any"}


class PolicyError(ValueError):
    """The policy file cannot be used as written."""


def load_policy(path: Path | str | None) -> Policy:
    """The policy in ``path``; the built-in defaults when ``path`` is ``None``."""
    if path is None:
        return Policy()
    try:
        raw = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return parse_policy(raw)
    except PolicyError as exc:
        raise PolicyError(f"policy file {path}: {exc}") from exc


def parse_policy(raw: Mapping[str, Any]) -> Policy:
    """A policy from the parsed TOML document (see the module docstring)."""
    _known_keys(raw, _SECTIONS, "top level")
    roles = _roles(raw["roles"]) if "roles" in raw else dict(DEFAULT_ROLES)
    default_strategy, masking = Strategy.MASK, dict(DEFAULT_MASKING)
    if "masking" in raw:
        default_strategy, masking = _masking(raw["masking"], roles)
    regions: tuple[str, ...] = ("US",)
    if "pii" in raw:
        regions = _phone_regions(raw["pii"])
    rules = DEFAULT_RULES
    if "rules" in raw:
        rules = tuple(_rule(i, entry) for i, entry in enumerate(_list(raw["rules"], "rules")))
    return Policy(roles, masking, default_strategy, rules, regions)


def _roles(raw: Any) -> dict[str, frozenset[str]]:
    roles: dict[str, frozenset[str]] = {}
    for role, granted in _table(raw, "roles").items():
        names = _strings(granted, f"roles.{role}")
        unknown = sorted(set(names) - PERMISSIONS)
        if unknown:
            raise PolicyError(
                f"roles.{role} grants unknown permission(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(PERMISSIONS))}"
            )
        roles[role] = frozenset(names)
    if not roles:
        raise PolicyError("[roles] defines no role")
    return roles


def _masking(raw: Any, roles: Mapping[str, frozenset[str]]) -> tuple[Strategy, dict[str, Strategy]]:
    table = _table(raw, "masking")
    _known_keys(table, {"default", "roles"}, "[masking]")
    default = _enum(Strategy, table.get("default", "mask"), "masking.default")
    per_role: dict[str, Strategy] = {}
    for role, value in _table(table.get("roles", {}), "masking.roles").items():
        if role not in roles:
            raise PolicyError(f"masking.roles names the undefined role {role!r}")
        per_role[role] = _enum(Strategy, value, f"masking.roles.{role}")
    return default, per_role


def _phone_regions(raw: Any) -> tuple[str, ...]:
    table = _table(raw, "pii")
    _known_keys(table, {"phone_regions"}, "[pii]")
    regions = tuple(_strings(table.get("phone_regions", ["US"]), "pii.phone_regions"))
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown or not regions:
        raise PolicyError(
            f"pii.phone_regions must list ISO region codes such as 'US'; bad: {unknown or '[]'}"
        )
    return regions


def _rule(index: int, raw: Any) -> FieldRule:
    where = f"rules[{index}]"
    entry = _table(raw, where)
    _known_keys(entry, _RULE_KEYS, where)
    name = str(entry.get("name", where))
    where = f"{where} ({name!r})"
    fields = frozenset(_strings(entry.get("fields"), f"{where}.fields"))
    unknown = sorted(fields - FIELDS)
    if unknown or not fields:
        raise PolicyError(
            f"{where}.fields: unknown or missing field(s) {unknown}; "
            f"known: {', '.join(sorted(FIELDS))}"
        )
    effect = _enum(Effect, entry.get("effect", "deny"), f"{where}.effect")
    if effect is Effect.ALLOW:
        raise PolicyError(f"{where}.effect must be 'deny' or 'mask' (`require` grants allow)")
    require = entry.get("require")
    if require is not None and require not in PERMISSIONS:
        raise PolicyError(f"{where}.require names the unknown permission {require!r}")
    when = _condition(entry.get("when", {}), f"{where}.when")
    if not when.unconditional and not fields <= MEMORY_FIELDS:
        others = sorted(fields - MEMORY_FIELDS)
        raise PolicyError(f"{where}: conditions apply to memory fields only, not {others}")
    return FieldRule(name, fields, effect, require, when)


def _condition(raw: Any, where: str) -> Condition:
    table = _table(raw, where)
    _known_keys(table, _CONDITION_KEYS, where)
    types = None
    if "types" in table:
        names = _strings(table["types"], f"{where}.types")
        types = frozenset(_enum(MemoryType, t, f"{where}.types") for t in names)
    sensitivity = None
    if "min_sensitivity" in table:
        sensitivity = _enum(Sensitivity, table["min_sensitivity"], f"{where}.min_sensitivity")
    other_agent = table.get("other_agent")
    if other_agent is not None and not isinstance(other_agent, bool):
        raise PolicyError(f"{where}.other_agent must be true or false")
    tags = frozenset(_strings(table["tags_any"], where)) if "tags_any" in table else None
    return Condition(types, sensitivity, other_agent, tags)


def _table(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} must be a table")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise PolicyError(f"{where} must be an array")
    return raw


def _strings(raw: Any, where: str) -> list[str]:
    items = _list(raw, where)
    if not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{where} must be an array of strings")
    return items


def _enum(kind: type[E], raw: Any, where: str) -> E:
    try:
        return kind(raw)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise PolicyError(f"{where}: {raw!r} is not one of {choices}") from None


def _known_keys(table: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(unknown)}")
