"""Vault keys from the settings, and the ``agentmem keys`` commands.

Keys come from ``AGENTMEM_VAULT_KEYS``, else ``vault_keys_file``, else (on the
embedded default only) ``<data-dir>/vault.keys``, generated on first start.
A Neo4j set without keys runs, but refuses knowledge-vault writes.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from graph.adapters.sets import open_backends
from graph.adapters.vault_rows import vault_rows
from graph.vault.cipher import VaultCipher
from graph.vault.keys import VaultKeyError, new_key, open_key_source
from graph.vault.rotation import BATCH, rotate
from graphql_api.backends import backend_config, make_embedder
from graphql_api.settings import Settings, SettingsError

log = logging.getLogger("agentmem.vault")

DEFAULT_KEY_FILE = "vault.keys"


def open_vault(settings: Settings) -> VaultCipher | None:
    """The cipher over the configured keys (``None`` without any)."""
    default = settings.data_dir / DEFAULT_KEY_FILE if settings.neo4j_uri is None else None
    configured = Path(settings.vault_keys_file) if settings.vault_keys_file else None
    try:
        source, generated = open_key_source(settings.vault_keys, configured, default)
    except VaultKeyError as exc:
        raise SettingsError(str(exc)) from exc
    if generated:
        log.warning(
            "Generated a knowledge-vault key in %s (mode 0600). Back it up: vault "
            "memories cannot be read without it.",
            default,
        )
    if source is None:
        log.warning(
            "No knowledge-vault keys configured (AGENTMEM_VAULT_KEYS or vault_keys_file): "
            "KNOWLEDGE_VAULT writes are refused."
        )
        return None
    return VaultCipher(source)


def add_keys_parser(verbs: Any) -> None:
    keys = verbs.add_parser(
        "keys",
        help="list or rotate the knowledge-vault keys",
        description="Knowledge-vault keys (same --data-dir and settings as serve).",
    )
    actions = keys.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="show the key ids (never the keys)")
    listing.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    rotating = actions.add_parser(
        "rotate",
        help="add a new active key and re-encrypt every vault memory under it",
        description=(
            "Add a new key as the active one (key files only; with AGENTMEM_VAULT_KEYS put "
            "the new key first yourself) and re-encrypt every vault memory version under "
            "the active key, in batches, while servers keep serving."
        ),
    )
    rotating.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    rotating.add_argument(
        "--keep-active",
        action="store_true",
        help="do not add a key; only re-encrypt under the current active key",
    )
    rotating.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")


async def run_keys(settings: Settings, args: argparse.Namespace) -> int:
    try:
        cipher = open_vault(settings)
    except SettingsError as exc:
        print(f"agentmem: {exc}")
        return 2
    if cipher is None:
        print("agentmem: no knowledge-vault keys are configured.")
        return 2
    if args.keys_action == "list":
        ring = cipher.ring()
        print(f"source: {cipher.keys.description}")
        for kid in ring.kids:
            print(f"{kid}{'  (active)' if kid == ring.active_kid else ''}")
        return 0
    if not args.keep_active:
        try:
            ring = cipher.keys.add_active(new_key())
        except VaultKeyError as exc:
            print(f"agentmem: {exc}")
            return 2
        print(f"added key {ring.active_kid} as active in {cipher.keys.description}")
    backends = await open_backends(backend_config(settings), make_embedder(settings))
    try:
        report = await rotate(vault_rows(backends.store), cipher, max(1, args.batch))
    finally:
        await backends.close()
    before = ", ".join(f"{kid}: {n}" for kid, n in sorted((report.by_kid_before or {}).items()))
    print(f"rows by key before: {before or 'none'}")
    print(
        f"re-encrypted {report.rewritten} rows under {report.active_kid} in {report.passes} "
        f"pass(es); {report.changed_meanwhile} changed meanwhile and were redone"
    )
    print(f"all {report.rows} vault rows now carry key {report.active_kid}")
    return 0
