"""The key ring and the cipher, without any store."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from graph.vault.cipher import VaultCipher, VaultError, is_sealed, key_id_of
from graph.vault.keys import KeySource, VaultKeyError, generate_key_file, new_key, parse_keys


def encoded(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


def test_the_first_key_is_active_unless_one_is_marked() -> None:
    ring = parse_keys(f"a:{encoded(1)},b:{encoded(2)}", "test")
    assert (ring.active_kid, ring.kids) == ("a", ["a", "b"])
    marked = parse_keys(f"a:{encoded(1)}\n*b:{encoded(2)}  # newest\n", "test")
    assert marked.active_kid == "b"


@pytest.mark.parametrize(
    "text",
    ["", "a", f"a:{encoded(1)}x", "a:c2hvcnQ=", f"*a:{encoded(1)},*b:{encoded(2)}", "bad id:AA=="],
)
def test_malformed_rings_are_refused_without_echoing_keys(text: str) -> None:
    with pytest.raises(VaultKeyError) as caught:
        parse_keys(text, "AGENTMEM_VAULT_KEYS")
    assert encoded(1) not in str(caught.value)


def test_keys_never_show_in_a_repr() -> None:
    key = new_key("k1")
    ring = parse_keys(key.encoded(), "test")
    secret = base64.b64encode(key.secret).decode()
    assert secret not in repr(key) and secret not in repr(ring)


def test_a_generated_key_file_is_private(tmp_path: Path) -> None:
    source = generate_key_file(tmp_path / "vault.keys")
    assert stat.S_IMODE((tmp_path / "vault.keys").stat().st_mode) == 0o600
    assert len(source.ring().kids) == 1


def test_sealed_content_opens_only_for_its_tenant_memory_and_version(tmp_path: Path) -> None:
    cipher = VaultCipher(generate_key_file(tmp_path / "vault.keys"))
    sealed = cipher.seal("the safe code is 4711", "t", "mem_1", 2)
    assert is_sealed(sealed) and "4711" not in sealed
    assert key_id_of(sealed) == cipher.active_kid
    assert cipher.open(sealed, "t", "mem_1", 2) == "the safe code is 4711"
    for tenant, memory_id, version in (("u", "mem_1", 2), ("t", "mem_2", 2), ("t", "mem_1", 3)):
        with pytest.raises(VaultError):
            cipher.open(sealed, tenant, memory_id, version)
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(VaultError):
        cipher.open(flipped, "t", "mem_1", 2)


def test_a_key_file_change_is_picked_up_and_old_keys_still_open(tmp_path: Path) -> None:
    path = tmp_path / "vault.keys"
    generate_key_file(path)
    server = VaultCipher(KeySource(path=path))
    old = server.seal("x", "t", "m", 1)
    rotated = KeySource(path=path).add_active(new_key("k-new"))
    assert rotated.active_kid == "k-new"
    assert server.active_kid == "k-new"
    assert server.open(old, "t", "m", 1) == "x"
    with pytest.raises(VaultError):
        VaultCipher(KeySource(value=f"other:{encoded(9)}")).open(old, "t", "m", 1)


def test_keyed_hashes_hide_the_plain_hash(tmp_path: Path) -> None:
    cipher = VaultCipher(KeySource(value=f"a:{encoded(1)},b:{encoded(2)}"))
    keyed = cipher.keyed_hash("abc")
    assert keyed != "abc" and keyed == cipher.keyed_hashes("abc")[0]
    assert len(set(cipher.keyed_hashes("abc"))) == 2
