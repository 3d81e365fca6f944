"""Reading the policy file: a valid file replaces the sections it has; a
malformed one is refused with an error naming the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.access.masking import Strategy
from graph.access.policy import DEFAULT_ROLES, DEFAULT_RULES, DENY, Policy
from graph.access.policy_file import PolicyError, load_policy
from graph.access.principal import Principal
from graph.access.rules import MEMORY_CONTENT, Effect
from graph.model import MemoryType, Sensitivity

FULL = """
[roles]
admin = ["*"]
analyst = ["memory:read", "search", "metadata:read"]

[masking]
default = "redact"
roles = { analyst = "hash" }

[pii]
phone_regions = ["US", "GB"]

[[rules]]
name = "secret vault of others"
fields = ["Memory.content", "MemoryVersion.content"]
require = "vault:read"
effect = "deny"
when = { types = ["KNOWLEDGE_VAULT"], min_sensitivity = "CONFIDENTIAL", other_agent = true }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_no_file_means_the_built_in_defaults() -> None:
    policy = load_policy(None)
    assert policy == Policy()
    assert policy.roles == DEFAULT_ROLES


def test_a_full_file_is_read(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, FULL))
    assert set(policy.roles) == {"admin", "analyst"}
    assert policy.default_strategy is Strategy.REDACT
    assert policy.masking == {"analyst": Strategy.HASH}
    assert policy.phone_regions == ("US", "GB")
    (rule,) = policy.rules
    assert rule.effect is Effect.DENY
    assert rule.when.types == frozenset({MemoryType.KNOWLEDGE_VAULT})
    assert rule.when.min_sensitivity is Sensitivity.CONFIDENTIAL
    analyst = Principal("apikey:1", "t", frozenset({"analyst"}), agent_id="agt_a")
    assert policy.strategy(analyst) is Strategy.HASH

    class Vault:
        type = MemoryType.KNOWLEDGE_VAULT
        sensitivity = Sensitivity.SECRET
        agent_id = "agt_b"
        tags = ()

    assert policy.decide(analyst, MEMORY_CONTENT, Vault()) == DENY


def test_sections_left_out_keep_their_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, '[masking]\ndefault = "hash"\n'))
    assert policy.roles == DEFAULT_ROLES
    assert policy.rules == DEFAULT_RULES
    assert policy.masking == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[roles\nadmin = 1", "not valid TOML"),
        ('[rolez]\nadmin = ["*"]', "unknown key(s) rolez"),
        (
            '[roles]\nadmin = ["memory:raed"]',
            "roles.admin grants unknown permission(s) memory:raed",
        ),
        ("[roles]\nadmin = 1", "roles.admin must be an array"),
        ("[roles]", "defines no role"),
        ('[masking]\ndefault = "blur"', "masking.default: 'blur' is not one of mask, redact, hash"),
        ('[masking]\nroles = { ghost = "mask" }', "undefined role 'ghost'"),
        ('[pii]\nphone_regions = ["USA"]', "pii.phone_regions"),
        ('[[rules]]\nfields = ["Memory.body"]', "unknown or missing field(s) ['Memory.body']"),
        ("[[rules]]\nname = 'x'", "rules[0] ('x').fields must be an array"),
        ('[[rules]]\nfields = ["Memory.content"]\neffect = "allow"', "must be 'deny' or 'mask'"),
        ('[[rules]]\nfields = ["Memory.content"]\nrequire = "vault"', "unknown permission 'vault'"),
        (
            '[[rules]]\nfields = ["Memory.content"]\nwhen = { types = ["DIARY"] }',
            "'DIARY' is not one of",
        ),
        (
            '[[rules]]\nfields = ["Memory.content"]\nwhen = { sensitive = true }',
            "unknown key(s) sensitive",
        ),
        (
            '[[rules]]\nfields = ["Memory.content"]\nwhen = { other_agent = "yes" }',
            "other_agent must be true or false",
        ),
        (
            '[[rules]]\nfields = ["Agent.metadata"]\nwhen = { other_agent = true }',
            "conditions apply to memory fields only",
        ),
    ],
)
def test_a_malformed_file_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.toml")
