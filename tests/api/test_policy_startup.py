"""Start-up: a malformed policy file stops the server with a clear message;
the PII hash key is kept in the data folder when not configured."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from graph.access.masking import Strategy
from graphql_api.access import HASH_KEY_FILE, load_access
from graphql_api.cli import main
from graphql_api.settings import Settings


def test_serve_refuses_a_malformed_policy_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[roles]\nreader = ["memory:raed"]\n')
    monkeypatch.setenv("AGENTMEM_POLICY_FILE", str(policy))
    assert main(["serve", "--data-dir", str(tmp_path / "data"), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert str(policy) in err and "unknown permission(s) memory:raed" in err


def test_the_hash_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_access(settings)
    key_file = tmp_path / HASH_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = load_access(settings)
    text = "mail ann@example.com"
    assert first.masker.mask(text, Strategy.HASH) == second.masker.mask(text, Strategy.HASH)
    configured = load_access(Settings(data_dir=tmp_path, pii_hash_key="k1"))
    assert configured.masker.mask(text, Strategy.HASH) != first.masker.mask(text, Strategy.HASH)


def test_the_policy_file_setting_is_used(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[masking]\ndefault = "hash"\n[pii]\nphone_regions = ["GB"]\n')
    access = load_access(Settings(data_dir=tmp_path, policy_file=str(policy)))
    assert access.policy.default_strategy is Strategy.HASH
    assert access.masker.detector.phone_regions == ("GB",)
